"""``/painel`` through a real server: the page and its files, with their headers."""

from tests.helpers import http


async def test_the_page_and_its_files_are_served_with_security_headers(server):
    page = await http(server.port, "GET", "/painel")
    assert page.status == 200, page.body
    assert page.headers["content-type"] == "text/html; charset=utf-8"
    policy = page.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy
    assert page.headers["x-content-type-options"] == "nosniff"
    assert page.headers["referrer-policy"] == "no-referrer"
    assert page.headers["cache-control"] == "no-cache"
    assert b'<html lang="pt-BR">' in page.body
    for name, kind in (("app.js", "text/javascript"), ("painel.css", "text/css")):
        r = await http(server.port, "GET", f"/painel/{name}")
        assert r.status == 200 and r.headers["content-type"].startswith(kind), name
        assert r.headers["content-security-policy"] == policy
    assert (await http(server.port, "GET", "/painel/")).status == 200
    head = await http(server.port, "HEAD", "/painel/app.js")
    assert head.status == 200 and head.body == b""


async def test_unknown_files_and_methods(server):
    r = await http(server.port, "GET", "/painel/nada.js")
    assert r.status == 404 and r.json() == {"error": "Arquivo do painel não encontrado"}
    assert (await http(server.port, "GET", "/painel/../app.py")).status == 404
    r = await http(server.port, "POST", "/painel")
    assert r.status == 405 and "GET" in r.headers["allow"]
