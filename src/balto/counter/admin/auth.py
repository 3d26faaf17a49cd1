"""What the management API reads from a request before touching the database. No I/O."""

from __future__ import annotations

import re

from balto.core.errors import NotFound, Unauthorized

MISSING_KEY = "Chave de administração ausente: envie Authorization: Bearer <chave_admin>"
INVALID_KEY = "Chave de administração inválida"
COUNTER_NOT_FOUND = "Balcão não encontrado"
#: The keys are URL-safe base64 (``secrets.token_urlsafe``); anything else is not one of ours.
KEY_RE = re.compile(r"[A-Za-z0-9_-]{16,128}")
COUNTER_ID_RE = re.compile(r"[0-9]{1,18}")  # ASCII digits; fits SQLite's 64-bit integers


def bearer_key(authorization: str | None) -> str:
    """The ``chave_admin`` of an ``Authorization: Bearer <chave>`` header; else 401."""
    if not authorization or not authorization.strip():
        raise Unauthorized(MISSING_KEY)
    scheme, _, value = authorization.strip().partition(" ")
    if scheme.lower() != "bearer":
        raise Unauthorized(MISSING_KEY)
    value = value.strip()
    if not KEY_RE.fullmatch(value):
        raise Unauthorized(INVALID_KEY)
    return value


def counter_id(text: str) -> int:
    """A counter id from the path; anything that cannot be one is simply not found."""
    if not COUNTER_ID_RE.fullmatch(text):
        raise NotFound(COUNTER_NOT_FOUND)
    return int(text)
