"""A folder of our own static files served under one URL prefix. No I/O beyond reading the
package's files once, when the site is made.

``GET {prefix}`` is the page (``index.html``) and ``GET {prefix}/{nome}`` each file beside it.
The files are read when the app starts, so a missing page fails at start-up, not on a request.

Every answer carries the same security headers: a Content-Security-Policy that allows only the
server itself (no inline script or style, no other origin, no framing), ``nosniff``, no
referrer, a Permissions-Policy that names which powerful features the page may use (none
unless the site asks for them). ``Cache-Control: no-cache``: a browser may keep a copy but
checks it each time, so an upgraded server never runs an old script against a new API.
"""

from __future__ import annotations

from collections.abc import Mapping
from importlib.resources.abc import Traversable

from balto.core.errors import NotFound
from balto.core.http.messages import Request, Response
from balto.core.http.router import Router

PAGE = "index.html"
CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".svg": "image/svg+xml",
}
CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self'",
        "connect-src 'self'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)
#: Features a page gets only when its site lists them in ``allow``.
POWERFUL_FEATURES = ("camera", "geolocation", "microphone", "payment", "usb")
BASE_HEADERS: tuple[tuple[str, str], ...] = (
    ("Content-Security-Policy", CONTENT_SECURITY_POLICY),
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "no-referrer"),
    ("X-Frame-Options", "DENY"),
    ("Cache-Control", "no-cache"),
)


class StaticFileMissing(RuntimeError):
    """The installed package lacks a site's page (a broken wheel): fail at start-up."""


def content_type(name: str) -> str | None:
    """The type of a file by its suffix; ``None`` for a kind we do not serve."""
    _, dot, suffix = name.rpartition(".")
    return CONTENT_TYPES.get(f".{suffix}") if dot else None


def permissions_policy(allow: tuple[str, ...] = ()) -> str:
    """``microphone=(self)`` for each allowed feature, ``camera=()`` for every other one."""
    unknown = set(allow) - set(POWERFUL_FEATURES)
    if unknown:
        raise ValueError(f"unknown features: {sorted(unknown)}")
    return ", ".join(f"{f}=(self)" if f in allow else f"{f}=()" for f in POWERFUL_FEATURES)


def security_headers(allow: tuple[str, ...] = ()) -> tuple[tuple[str, str], ...]:
    return (*BASE_HEADERS, ("Permissions-Policy", permissions_policy(allow)))


def load_files(root: Traversable) -> dict[str, bytes]:
    """Every servable file directly under ``root`` (no sub-folders), by name."""
    found = {
        entry.name: entry.read_bytes()
        for entry in root.iterdir()
        if entry.is_file() and content_type(entry.name) is not None
    }
    if PAGE not in found:
        raise StaticFileMissing(f"{PAGE} is missing from {root}")
    return found


class StaticSite:
    """The routes of one folder under ``prefix`` (``/painel``); ``allow``: the powerful
    features its page may use (``("microphone",)``)."""

    def __init__(
        self,
        prefix: str,
        files: Mapping[str, bytes],
        *,
        not_found: str,
        allow: tuple[str, ...] = (),
    ) -> None:
        if PAGE not in files:
            raise StaticFileMissing(f"{PAGE} is missing from {prefix}")
        self.prefix = prefix
        self.files = dict(files)
        self.not_found = not_found
        self.headers = security_headers(allow)

    def install(self, router: Router) -> None:
        router.add("GET", self.prefix, self.page)
        router.add("GET", f"{self.prefix}/{{nome}}", self.file)

    def response(self, name: str, body: bytes) -> Response:
        kind = content_type(name)
        assert kind is not None
        return Response(200, body, content_type=kind, headers=self.headers)

    async def page(self, request: Request) -> Response:
        return self.response(PAGE, self.files[PAGE])

    async def file(self, request: Request) -> Response:
        name = request.params["nome"]
        body = self.files.get(name)
        if body is None or name == PAGE:
            raise NotFound(self.not_found)
        return self.response(name, body)
