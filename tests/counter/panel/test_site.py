"""The panel's files as the package ships them, and the answers built from them (no server)."""

import re
from importlib.resources import files

import pytest

from balto.core.errors import NotFound
from balto.core.http.messages import Request
from balto.counter.panel.site import (
    CONTENT_SECURITY_POLICY,
    PanelFileMissing,
    PanelSite,
    content_type,
    load_files,
)

STATIC = files("balto.counter.panel").joinpath("static")
MAX_LINES = 400


def test_the_package_holds_the_page_and_every_file_it_names():
    shipped = load_files(STATIC)
    page = shipped["index.html"].decode()
    named = set(re.findall(r'(?:src|href)="/painel/([^"]+)"', page))
    for name, body in shipped.items():
        if name.endswith(".js"):  # relative module imports: "./api.js"
            named |= set(re.findall(r'from "\./([^"]+)"', body.decode()))
    assert named and named <= set(shipped), named - set(shipped)
    assert {"app.js", "painel.css", "icone.svg"} <= named


def test_no_file_runs_or_styles_inline_and_none_is_too_long():
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


def test_content_types_by_suffix():
    assert content_type("app.js") == "text/javascript; charset=utf-8"
    assert content_type("painel.css") == "text/css; charset=utf-8"
    assert content_type("index.html") == "text/html; charset=utf-8"
    assert content_type("icone.svg") == "image/svg+xml"
    assert content_type("segredo.py") is None and content_type("LEIAME") is None


def test_a_folder_without_the_page_fails_at_start(tmp_path):
    (tmp_path / "app.js").write_text("")
    with pytest.raises(PanelFileMissing):
        load_files(tmp_path)


async def test_answers_carry_the_security_headers():
    site = PanelSite({"index.html": b"<!doctype html>", "app.js": b"//"})
    page = await site.page(Request("GET", "/painel", ()))
    script = await site.file(Request("GET", "/painel/app.js", (), params={"nome": "app.js"}))
    for answer in (page, script):
        headers = dict(answer.headers)
        assert headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Referrer-Policy"] == "no-referrer"
        assert headers["Cache-Control"] == "no-cache"
    assert page.content_type.startswith("text/html") and page.body == b"<!doctype html>"
    assert script.content_type.startswith("text/javascript")
    assert "frame-ancestors 'none'" in CONTENT_SECURITY_POLICY
    assert "'unsafe-inline'" not in CONTENT_SECURITY_POLICY
    with pytest.raises(NotFound):
        await site.file(Request("GET", "/painel/x.js", (), params={"nome": "x.js"}))
