"""Binary attachment handling of Socket.IO packets (``_placeholder`` objects)."""

from __future__ import annotations

from typing import Any

__all__ = ["deconstruct", "has_binary", "reconstruct"]

_BINARY_TYPES = (bytes, bytearray, memoryview)


def has_binary(data: Any) -> bool:
    """True if ``data`` (JSON-like: dict/list/tuple/scalars) contains bytes anywhere."""
    if isinstance(data, _BINARY_TYPES):
        return True
    if isinstance(data, list | tuple):
        return any(has_binary(item) for item in data)
    if isinstance(data, dict):
        return any(has_binary(item) for item in data.values())
    return False


def deconstruct(data: Any) -> tuple[Any, list[bytes]]:
    """Replace each bytes-like value by ``{"_placeholder": True, "num": n}``; returns the new
    structure and the extracted buffers in ``num`` order."""
    buffers: list[bytes] = []

    def walk(value: Any) -> Any:
        if isinstance(value, _BINARY_TYPES):
            buffers.append(bytes(value))
            return {"_placeholder": True, "num": len(buffers) - 1}
        if isinstance(value, list | tuple):
            return [walk(item) for item in value]
        if isinstance(value, dict):
            return {key: walk(item) for key, item in value.items()}
        return value

    return walk(data), buffers


def _is_placeholder(value: dict[Any, Any]) -> bool:
    return value.get("_placeholder") is True


def reconstruct(data: Any, buffers: list[bytes]) -> Any:
    """Inverse of :func:`deconstruct`. Raises ``ValueError`` for a placeholder whose ``num`` is
    not an index of ``buffers``, or if some buffer is never referenced."""
    used: set[int] = set()

    def walk(value: Any) -> Any:
        if isinstance(value, list):
            return [walk(item) for item in value]
        if isinstance(value, dict):
            if _is_placeholder(value):
                num = value.get("num")
                if type(num) is not int or not 0 <= num < len(buffers):
                    raise ValueError("illegal attachment placeholder")
                used.add(num)
                return buffers[num]
            return {key: walk(item) for key, item in value.items()}
        return value

    result = walk(data)
    if len(used) != len(buffers):
        raise ValueError("unreferenced binary attachment")
    return result
