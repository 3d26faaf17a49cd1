"""The browser counter's files as the package ships them (no server, no browser)."""

import re
from importlib.resources import files

from balto.core.http.messages import Request
from balto.core.http.static import load_files, permissions_policy
from balto.counter.balcao.site import BalcaoSite

STATIC = files("balto.counter.balcao").joinpath("static")
MAX_LINES = 400


def test_the_package_holds_the_page_and_every_file_it_names():
    shipped = load_files(STATIC)
    page = shipped["index.html"].decode()
    named = set(re.findall(r'(?:src|href)="/balcao/([^"]+)"', page))
    for name, body in shipped.items():
        if name.endswith(".js"):  # relative module imports and the worklet's URL
            named |= set(re.findall(r'from "\./([^"]+)"', body.decode()))
            named |= set(re.findall(r'addModule\("/balcao/([^"]+)"\)', body.decode()))
    assert named and named <= set(shipped), named - set(shipped)
    assert {"app.js", "captura.js", "balcao.css", "icone.svg"} <= named


def test_no_file_runs_or_styles_inline_or_loads_another_origin():
    for name, body in load_files(STATIC).items():
        text = body.decode()
        assert len(text.splitlines()) <= MAX_LINES, name
        assert " style=" not in text and "javascript:" not in text, name
        assert not re.search(r"\son[a-z]+=", text), name  # no inline event handlers
        assert "http://" not in text.replace("http://www.w3.org/2000/svg", ""), name
        assert "https://" not in text, name  # nothing from another origin (no CDN)
    page = load_files(STATIC)["index.html"].decode()
    assert not re.search(r"<script(?![^>]*\ssrc=)", page)  # every script is a file
    assert "<style" not in page


def test_the_protocol_fields_the_page_speaks_are_the_seed_s():
    code = "".join(b.decode() for n, b in load_files(STATIC).items() if n.endswith(".js"))
    for field in ('comando: "auth"', "api_key:", "sample_rate:", 'comando: "feedback"'):
        assert field in code, field
    for field in ("id_interacao", "resultado", "mensagem", "produto", "tipo", "balcao"):
        assert re.search(rf"\.{field}\b", code), field


async def test_only_this_site_may_use_the_microphone():
    site = BalcaoSite()
    headers = dict((await site.page(Request("GET", "/balcao", ()))).headers)
    assert headers["Permissions-Policy"] == permissions_policy(("microphone",))
    assert "microphone=(self)" in headers["Permissions-Policy"]
