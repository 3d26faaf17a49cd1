"""The one place untrusted JSON is decoded: HTTP bodies, counter messages, Socket.IO payloads.

``json.loads`` alone lets through what later breaks far from the input: a lone surrogate
escape (``"\\ud800"``) is a ``str`` that no UTF-8 encoder, SQLite or hash accepts; an integer
literal of more than 4300 digits raises ``ValueError`` (not ``JSONDecodeError``); deep nesting
raises ``RecursionError``; ``NaN``/``Infinity`` and ``1e999`` are not JSON numbers we can store.
:func:`decode_json` refuses all of them with one typed error, :class:`InvalidJson`, whose
message (Portuguese, for the peer) says which limit was broken. No I/O.
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Iterable
from typing import Any

from balto.core.errors import BadRequest

__all__ = ["InvalidJson", "JsonLimits", "decode_json", "decode_json_object"]


class InvalidJson(BadRequest):
    """The input is not JSON we accept (HTTP 400, WebSocket close 1007 or an ``erro`` reply)."""


@dataclasses.dataclass(frozen=True, slots=True)
class JsonLimits:
    max_bytes: int = 64 * 1024  # of the encoded text
    max_depth: int = 32  # nested arrays/objects
    max_number_chars: int = 40  # digits, sign, point and exponent of one number literal


DEFAULT_LIMITS = JsonLimits()


def _reject_constant(name: str) -> Any:
    raise InvalidJson(f"JSON inválido: {name} não é um número JSON")


def decode_json(data: str | bytes, limits: JsonLimits = DEFAULT_LIMITS) -> Any:
    """Decode ``data`` (``bytes`` must be UTF-8) within ``limits``; else raise ``InvalidJson``."""
    if isinstance(data, bytes | bytearray | memoryview):
        if len(data) > limits.max_bytes:
            raise InvalidJson(f"JSON maior que o limite de {limits.max_bytes} bytes")
        try:
            text = bytes(data).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise InvalidJson("JSON não é UTF-8 válido") from exc
    else:
        text = data
        # A str's UTF-8 size is at most 4 bytes a character: only long ones need the count.
        if len(text) * 4 > limits.max_bytes and len(_utf8(text)) > limits.max_bytes:
            raise InvalidJson(f"JSON maior que o limite de {limits.max_bytes} bytes")

    def number(literal: str, convert: type[int] | type[float]) -> int | float:
        if len(literal) > limits.max_number_chars:
            raise InvalidJson(f"Número JSON com mais de {limits.max_number_chars} caracteres")
        value = convert(literal)
        if isinstance(value, float) and not math.isfinite(value):
            raise InvalidJson("Número JSON fora do intervalo")
        return value

    try:
        value = json.loads(
            text,
            parse_int=lambda s: number(s, int),
            parse_float=lambda s: number(s, float),
            parse_constant=_reject_constant,
        )
    except json.JSONDecodeError as exc:
        raise InvalidJson(f"JSON malformado (linha {exc.lineno}, coluna {exc.colno})") from exc
    except RecursionError as exc:
        raise InvalidJson(f"JSON aninhado além de {limits.max_depth} níveis") from exc
    _check_tree(value, limits.max_depth)
    return value


def decode_json_object(data: str | bytes, limits: JsonLimits = DEFAULT_LIMITS) -> dict[str, Any]:
    value = decode_json(data, limits)
    if not isinstance(value, dict):
        raise InvalidJson("O JSON deve ser um objeto JSON ({...})")
    return value


def _utf8(text: str) -> bytes:
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise InvalidJson("JSON contém texto Unicode inválido (surrogate isolado)") from exc


def _check_tree(value: Any, max_depth: int) -> None:
    """Depth and valid Unicode of every string and key, walked without recursion."""
    if isinstance(value, str):
        _check_text(value)
        return
    # Only containers go on the stack (a 1 MB array of scalars stays a 1 MB walk).
    stack: list[tuple[list[Any] | dict[str, Any], int]] = []
    if isinstance(value, list | dict):
        stack.append((value, 0))
    while stack:
        container, depth = stack.pop()
        if depth >= max_depth:
            raise InvalidJson(f"JSON aninhado além de {max_depth} níveis")
        children: Iterable[Any] = container
        if isinstance(container, dict):
            for key in container:
                _check_text(key)
            children = container.values()
        for child in children:
            if isinstance(child, str):
                _check_text(child)
            elif isinstance(child, list | dict):
                stack.append((child, depth + 1))


def _check_text(text: str) -> None:
    if not text.isascii():
        _utf8(text)
