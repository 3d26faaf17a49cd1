"""A static site without a server: its routes, its headers and what it refuses."""

import pytest

from balto.core.errors import NotFound
from balto.core.http.messages import Request
from balto.core.http.router import Router
from balto.core.http.static import (
    CONTENT_SECURITY_POLICY,
    StaticFileMissing,
    StaticSite,
    permissions_policy,
)

FILES = {"index.html": b"<!doctype html>", "app.js": b"//", "notas.txt": b"x"}


def test_every_powerful_feature_is_denied_unless_allowed():
    assert permissions_policy() == ("camera=(), geolocation=(), microphone=(), payment=(), usb=()")
    assert "microphone=(self)" in permissions_policy(("microphone",))
    assert "camera=()" in permissions_policy(("microphone",))
    with pytest.raises(ValueError, match="bluetooth"):
        permissions_policy(("bluetooth",))


def test_a_site_needs_its_page():
    with pytest.raises(StaticFileMissing):
        StaticSite("/x", {"app.js": b"//"}, not_found="?")


async def test_routes_under_the_prefix_with_the_site_s_headers():
    site = StaticSite("/balcao", FILES, not_found="Arquivo não encontrado", allow=("microphone",))
    router = Router()
    site.install(router)
    page = (await router.dispatch(Request("GET", "/balcao", ()))).response
    script = (await router.dispatch(Request("GET", "/balcao/app.js", ()))).response
    assert page.status == script.status == 200
    assert page.body == b"<!doctype html>" and page.content_type.startswith("text/html")
    assert script.content_type == "text/javascript; charset=utf-8"
    for answer in (page, script):
        headers = dict(answer.headers)
        assert headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
        assert headers["Permissions-Policy"] == permissions_policy(("microphone",))
        assert headers["Cache-Control"] == "no-cache"
    for missing in ("index.html", "x.js"):
        with pytest.raises(NotFound, match="Arquivo não encontrado"):
            await site.file(Request("GET", f"/balcao/{missing}", (), params={"nome": missing}))
    other = await router.dispatch(Request("GET", "/painel", ()))
    assert other.response.status == 404
