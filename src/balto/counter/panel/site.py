"""The panel's files and their answers. No I/O beyond reading the package's own files once.

``GET /painel`` is the page (``static/index.html``) and ``GET /painel/{nome}`` each file beside
it. Everything is plain HTML, CSS and JavaScript written for Balto (no third-party code), read
from the package when the app starts, so a missing file fails at start-up, not on a request.

Every answer carries the same security headers: a Content-Security-Policy that allows only the
server itself (no inline script or style, no other origin, no framing), ``nosniff``, no
referrer. ``Cache-Control: no-cache``: a browser may keep a copy but checks it each time, so
an upgraded server never runs an old script against a new API.
"""

from __future__ import annotations

from collections.abc import Mapping
from importlib.resources import files
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
SECURITY_HEADERS: tuple[tuple[str, str], ...] = (
    ("Content-Security-Policy", CONTENT_SECURITY_POLICY),
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "no-referrer"),
    ("X-Frame-Options", "DENY"),
    ("Cache-Control", "no-cache"),
)
FILE_NOT_FOUND = "Arquivo do painel não encontrado"


class PanelFileMissing(RuntimeError):
    """The installed package lacks a panel file (a broken wheel): fail at start-up."""


def content_type(name: str) -> str | None:
    """The type of a panel file by its suffix; ``None`` for a kind we do not serve."""
    _, dot, suffix = name.rpartition(".")
    return CONTENT_TYPES.get(f".{suffix}") if dot else None


def load_files(root: Traversable) -> dict[str, bytes]:
    """Every servable file directly under ``root`` (no sub-folders), by name."""
    found = {
        entry.name: entry.read_bytes()
        for entry in root.iterdir()
        if entry.is_file() and content_type(entry.name) is not None
    }
    if PAGE not in found:
        raise PanelFileMissing(f"{PAGE} is missing from {root}")
    return found


def file_response(name: str, body: bytes) -> Response:
    kind = content_type(name)
    assert kind is not None
    return Response(200, body, content_type=kind, headers=SECURITY_HEADERS)


class PanelSite:
    """The routes of the panel; ``static`` defaults to the package's own ``static/`` folder."""

    def __init__(self, static: Mapping[str, bytes] | None = None) -> None:
        self.files = dict(static) if static is not None else load_files(_package_static())

    def install(self, router: Router) -> None:
        router.add("GET", "/painel", self.page)
        router.add("GET", "/painel/{nome}", self.file)

    async def page(self, request: Request) -> Response:
        return file_response(PAGE, self.files[PAGE])

    async def file(self, request: Request) -> Response:
        name = request.params["nome"]
        body = self.files.get(name)
        if body is None or name == PAGE:
            raise NotFound(FILE_NOT_FOUND)
        return file_response(name, body)


def _package_static() -> Traversable:
    return files("balto.counter.panel").joinpath("static")
