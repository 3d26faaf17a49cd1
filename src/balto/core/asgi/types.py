"""The ASGI 3 callable shapes, kept server-agnostic: messages are plain dicts.

Received messages are read-only mappings (a server may hand us TypedDicts); the messages we send
are plain dicts built from literals, checked at runtime by the server.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

Scope = Mapping[str, Any]
Received = Mapping[str, Any]
Message = dict[str, Any]
Receive = Callable[[], Awaitable[Received]]
Send = Callable[[Message], Awaitable[None]]
AsgiApp = Callable[[Scope, Receive, Send], Awaitable[None]]

__all__ = ["AsgiApp", "Message", "Receive", "Received", "Scope", "Send"]
