"""Plain request/response values passed between the h11 shell and the handlers."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import AsyncGenerator, Mapping
from typing import Any
from urllib.parse import parse_qs

from balto.core.errors import (
    BadRequest,
    BaltoError,
    ClientError,
    MethodNotAllowed,
    PayloadTooLarge,
    TooManyRequests,
    Unauthorized,
    UnsupportedMediaType,
)
from balto.core.json_input import decode_json_object

JSON_TYPE = "application/json; charset=utf-8"
INTERNAL_ERROR = "Erro interno do servidor"


@dataclasses.dataclass(frozen=True, slots=True)
class Request:
    method: str
    target: str
    headers: tuple[tuple[str, str], ...]  # names lower-cased, in arrival order
    body: bytes = b""
    client: str = ""  # what limits key on: the peer, or behind TRUSTED_PROXIES the client
    params: Mapping[str, str] = dataclasses.field(default_factory=dict)
    scheme: str = "http"  # "https" when a TLS front end (the ASGI shell) says so

    @property
    def path(self) -> str:
        return self.target.split("?", 1)[0]

    @property
    def query(self) -> dict[str, list[str]]:
        _, _, raw = self.target.partition("?")
        return parse_qs(raw, keep_blank_values=True)

    def header(self, name: str) -> str | None:
        name = name.lower()
        for key, value in reversed(self.headers):
            if key == name:
                return value
        return None

    def json_object(self) -> dict[str, Any]:
        """The body as a JSON object; anything else is a precise ``ClientError``."""
        content_type = (self.header("content-type") or "").split(";", 1)[0].strip().lower()
        if content_type != "application/json":
            raise UnsupportedMediaType("Content-Type deve ser application/json")
        if not self.body:
            raise BadRequest("Corpo da requisição vazio: envie um objeto JSON")
        return decode_json_object(self.body)


class BodyLimit:
    """The body cap, for both HTTP shells: a declared length over it is refused before any byte
    is read (413 early), and so is the first chunk that crosses it (chunked or lying peers)."""

    def __init__(self, cap_bytes: int, declared_length: int | None = None) -> None:
        self.cap_bytes = cap_bytes
        self.size = 0
        if declared_length is not None and declared_length > cap_bytes:
            raise self._too_large()

    def add(self, chunk_bytes: int) -> None:
        self.size += chunk_bytes
        if self.size > self.cap_bytes:
            raise self._too_large()

    def _too_large(self) -> PayloadTooLarge:
        return PayloadTooLarge(f"Corpo maior que o limite de {self.cap_bytes} bytes")


#: A body sent as it is produced (Server-Sent Events): each chunk goes out as soon as it is
#: yielded. The shells close the generator when the peer leaves or the send fails, so its
#: ``finally`` is where a stream gives back what it holds.
BodyStream = AsyncGenerator[bytes, None]


@dataclasses.dataclass(frozen=True, slots=True)
class Response:
    """A complete answer, or (``stream`` set) a head whose body follows chunk by chunk, with
    no ``Content-Length`` (HTTP/1.1 chunked encoding; ``body`` is then ignored)."""

    status: int
    body: bytes = b""
    content_type: str = JSON_TYPE
    headers: tuple[tuple[str, str], ...] = ()
    stream: BodyStream | None = None


def json_response(
    status: int, payload: object, *, headers: tuple[tuple[str, str], ...] = ()
) -> Response:
    body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
    return Response(status=status, body=body, headers=headers)


REFUSAL_RETRY_AFTER_S = 5


def refusal_response(reason: str) -> Response:
    """Over the connection caps: 503 with the reason and ``Retry-After``."""
    return json_response(
        503, {"error": reason}, headers=(("Retry-After", str(REFUSAL_RETRY_AFTER_S)),)
    )


def error_response(error: BaltoError) -> Response:
    """The JSON error body ``{"error": "..."}`` with the status the error type maps to."""
    status = getattr(error, "status", 500)
    headers: tuple[tuple[str, str], ...] = ()
    if isinstance(error, MethodNotAllowed):
        headers = (("Allow", ", ".join(error.allowed)),)
    elif isinstance(error, TooManyRequests):
        headers = (("Retry-After", str(error.retry_after_s)),)
    elif isinstance(error, Unauthorized):
        headers = (("WWW-Authenticate", 'Bearer realm="balto"'),)
    if not isinstance(error, ClientError):
        status = max(status, 500)
    return json_response(status, {"error": error.message}, headers=headers)
