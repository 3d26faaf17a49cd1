"""CORS / Origin policy of the Socket.IO endpoint (pure; mirrors python-engineio).

* ``allowed_origins=None`` (default, like Flask-SocketIO): same origin only, i.e. the Origin
  must be ``<scheme>://<Host>`` (or the ``X-Forwarded-Proto``/``X-Forwarded-Host`` variant);
* ``"*"``: any origin; a string or a sequence of strings: an allow-list, on top of the same
  origin (always accepted, unlike python-engineio);
* an empty sequence: CORS handling disabled (no check, no headers).

Requests without an ``Origin`` header (non-browser clients) are always accepted. The allowed
Origin is echoed (never ``*``), so credentials work. Checked for WebSocket requests too, since
browsers do not apply CORS to them.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

from balto.core.http.messages import Request
from balto.socketio.errors import OriginRejected

__all__ = ["CorsConfig", "allowed_origins", "check_cors", "cors_headers"]

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class CorsConfig:
    allowed_origins: str | Sequence[str] | None = None
    credentials: bool = True


def _first(value: str) -> str:
    return value.split(",")[0].strip()


def allowed_origins(
    config: CorsConfig,
    *,
    scheme: str,
    host: str | None,
    forwarded_proto: str | None = None,
    forwarded_host: str | None = None,
) -> frozenset[str] | None:
    """The accepted origins; ``None`` means any. The server's own origin is always among them:
    python-socketio's client sends it on its WebSocket, and same-origin is never a risk."""
    setting = config.allowed_origins
    same: set[str] = set()
    if host is not None:
        same.add(f"{scheme}://{host}")
        if forwarded_proto is not None or forwarded_host is not None:
            proto = _first(forwarded_proto) if forwarded_proto else scheme
            same.add(f"{proto}://{_first(forwarded_host) if forwarded_host else host}")
    if setting is None:
        return frozenset(same)
    listed = {setting} if isinstance(setting, str) else set(setting)
    return None if "*" in listed else frozenset(same | listed)


def check_cors(
    config: CorsConfig,
    *,
    method: str,
    origin: str | None,
    scheme: str,
    host: str | None,
    forwarded_proto: str | None = None,
    forwarded_host: str | None = None,
    request_headers: str | None = None,
) -> list[tuple[str, str]]:
    """Response headers for a request, or :class:`OriginRejected` (403) for a foreign Origin.

    ``request_headers`` is the ``Access-Control-Request-Headers`` value of a preflight.
    """
    if not isinstance(config.allowed_origins, str | None) and not config.allowed_origins:
        return []  # disabled
    allowed = allowed_origins(
        config,
        scheme=scheme,
        host=host,
        forwarded_proto=forwarded_proto,
        forwarded_host=forwarded_host,
    )
    headers: list[tuple[str, str]] = []
    if origin is not None:
        if allowed is not None and origin not in allowed:
            raise OriginRejected("Not an accepted origin.")
        headers.append(("Access-Control-Allow-Origin", origin))
        # 429/503 answers carry Retry-After; without this a browser script cannot read it.
        headers.append(("Access-Control-Expose-Headers", "Retry-After"))
    if method.upper() == "OPTIONS":
        headers.append(("Access-Control-Allow-Methods", "OPTIONS, GET, POST"))
    if request_headers is not None:
        headers.append(("Access-Control-Allow-Headers", request_headers))
    if config.credentials:
        headers.append(("Access-Control-Allow-Credentials", "true"))
    return headers


def cors_headers(config: CorsConfig, request: Request) -> list[tuple[str, str]]:
    """CORS headers for ``request``; a foreign Origin raises ``OriginRejected`` and is logged."""
    try:
        return check_cors(
            config,
            method=request.method,
            origin=request.header("origin"),
            scheme=request.scheme,
            host=request.header("host"),
            forwarded_proto=request.header("x-forwarded-proto"),
            forwarded_host=request.header("x-forwarded-host"),
            request_headers=request.header("access-control-request-headers"),
        )
    except OriginRejected:
        log.warning(
            "origem recusada (403) em %s %s: Origin %r, Host %r; libere-a com --cors-origin",
            request.method,
            request.path,
            request.header("origin"),
            request.header("host"),
        )
        raise
