"""``/balcao`` through a real server: the page and its files, and the one Permissions-Policy
of Balto that lets a page use the microphone."""

from tests.helpers import http


async def test_the_page_and_its_files_may_use_the_microphone(server):
    page = await http(server.port, "GET", "/balcao")
    assert page.status == 200, page.body
    assert page.headers["content-type"] == "text/html; charset=utf-8"
    policy = page.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "connect-src 'self'" in policy
    assert "microphone=(self)" in page.headers["permissions-policy"]
    assert "camera=()" in page.headers["permissions-policy"]
    assert page.headers["cache-control"] == "no-cache"
    for name, kind in (
        ("app.js", "text/javascript"),
        ("captura.js", "text/javascript"),  # the AudioWorklet: a script of the same origin
        ("balcao.css", "text/css"),
    ):
        r = await http(server.port, "GET", f"/balcao/{name}")
        assert r.status == 200 and r.headers["content-type"].startswith(kind), name
        assert r.headers["content-security-policy"] == policy
        assert r.headers["permissions-policy"] == page.headers["permissions-policy"]


async def test_other_pages_may_not_use_the_microphone(server):
    panel = await http(server.port, "GET", "/painel")
    assert "microphone=()" in panel.headers["permissions-policy"]
    r = await http(server.port, "GET", "/balcao/nada.js")
    assert r.status == 404 and r.json() == {"error": "Arquivo do balcão não encontrado"}
