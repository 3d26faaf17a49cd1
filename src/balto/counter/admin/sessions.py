"""The panel's session rules, before and after the database. No I/O.

* The cookie ``balto_sessao`` carries the session id: ``HttpOnly`` (no script reads it),
  ``SameSite=Strict`` (no other site's page sends it), ``Path=/``, ``Max-Age`` the time left,
  and ``Secure`` when the request came over TLS (``Request.scheme``: hypercorn says so).
* The CSRF token is derived from the session id (an HMAC keyed by it), so it is bound to that
  session, needs no storage, and cannot be computed without the cookie, which no script can
  read. A state-changing call authenticated by the cookie must repeat it in ``X-CSRF-Token``
  (compared in constant time), and an ``Origin`` it carries must be the server's own.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import math
import re
from datetime import datetime
from typing import Any

from balto.core.errors import BadRequest, Forbidden
from balto.core.http.messages import Request

COOKIE_NAME = "balto_sessao"
CSRF_HEADER = "X-CSRF-Token"
STATE_CHANGING = frozenset({"POST", "PUT", "DELETE", "PATCH"})
#: ``secrets.token_urlsafe(32)``: anything else in the cookie is not one of ours.
SESSION_RE = re.compile(r"[A-Za-z0-9_-]{43}")

INVALID_SESSION = "Sessão inválida ou expirada: entre de novo (POST /api/sessao)"
NO_SESSION = "Nenhuma sessão: entre com POST /api/sessao"
WRONG_LOGIN = "E-mail ou chave de administração inválidos"
CSRF_MISSING = f"Token CSRF ausente: envie o cabeçalho {CSRF_HEADER} recebido ao entrar"
CSRF_WRONG = "Token CSRF inválido para esta sessão"
FOREIGN_ORIGIN = "Origem não permitida: chamadas com a sessão só do próprio servidor"
LOGIN_FIELDS = ("email", "chave_admin")


def session_cookie(request: Request) -> str | None:
    """The session id the request's ``Cookie`` headers carry, as sent (None: none)."""
    for name, value in request.headers:
        if name != "cookie":
            continue
        for pair in value.split(";"):
            key, sep, content = pair.strip().partition("=")
            if sep and key == COOKIE_NAME:
                return content.strip().strip('"')
    return None


def well_formed(sessao: str) -> bool:
    return SESSION_RE.fullmatch(sessao) is not None


def csrf_token(sessao: str) -> str:
    """The session's CSRF token (URL-safe base64 of an HMAC-SHA256 keyed by the session id)."""
    mac = hmac.new(sessao.encode("utf-8"), b"balto-csrf", hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).rstrip(b"=").decode("ascii")


def check_state_change(request: Request, sessao: str) -> None:
    """A cookie-authenticated call that changes state: the Origin, then the token; else 403."""
    if request.method.upper() not in STATE_CHANGING:
        return
    check_origin(request)
    given = request.header(CSRF_HEADER.lower())
    if not given:
        raise Forbidden(CSRF_MISSING)
    if not hmac.compare_digest(given.strip().encode("utf-8"), csrf_token(sessao).encode()):
        raise Forbidden(CSRF_WRONG)


def check_origin(request: Request) -> None:
    """An ``Origin`` header, when present, must name this server: ``<scheme>://<Host>``."""
    origin = request.header("origin")
    if origin is None:
        return  # not a browser, or a same-origin GET/HEAD: the token still has to match
    if origin.strip().lower() != own_origin(request):
        raise Forbidden(FOREIGN_ORIGIN)


def own_origin(request: Request) -> str:
    host = (request.header("host") or "").strip().lower()
    return f"{request.scheme}://{host}"


def parse_login(body: dict[str, Any]) -> tuple[str, str]:
    """``{"email": ..., "chave_admin": ...}`` → (email, key); anything else is a 400."""
    unknown = sorted(set(body) - set(LOGIN_FIELDS))
    if unknown:
        raise BadRequest(f"Campo(s) desconhecido(s): {', '.join(unknown)}")
    values: list[str] = []
    for name in LOGIN_FIELDS:
        value = body.get(name)
        if not isinstance(value, str) or not value.strip() or len(value) > 254:
            raise BadRequest(f"Campo '{name}' ausente ou inválido")
        values.append(value.strip())
    return values[0], values[1]


def set_cookie(sessao: str, expira_em: str, now: datetime, *, secure: bool) -> str:
    """The ``Set-Cookie`` value of a new session, valid until ``expira_em``."""
    left_s = (datetime.fromisoformat(expira_em) - now).total_seconds()
    return _cookie(sessao, max(0, math.ceil(left_s)), secure=secure)


def clear_cookie(*, secure: bool) -> str:
    """The ``Set-Cookie`` value that removes the session cookie from the browser."""
    return _cookie("", 0, secure=secure)


def _cookie(value: str, max_age_s: int, *, secure: bool) -> str:
    attributes = [
        f"{COOKIE_NAME}={value}",
        "HttpOnly",
        "SameSite=Strict",
        "Path=/",
        f"Max-Age={max_age_s}",
    ]
    if secure:
        attributes.append("Secure")
    return "; ".join(attributes)
