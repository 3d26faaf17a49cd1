"""Protocol errors of the Engine.IO / Socket.IO core.

All of them are :class:`balto.core.errors.ClientError` subclasses, so a shell can map them to an
HTTP status (``exc.status``) or close the connection without special cases.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from balto.core.errors import BadRequest, ClientError, PayloadTooLarge

if TYPE_CHECKING:
    from balto.socketio.engineio.events import Event

__all__ = [
    "EngineProtocolError",
    "OriginRejected",
    "PayloadTooLarge",
    "SocketIOProtocolError",
]


class EngineProtocolError(BadRequest):
    """The peer broke the Engine.IO protocol (bad packet, bad request, double GET...).

    ``events`` holds the session events produced while handling the faulty input (typically a
    ``Closed`` event when the violation ended the session); the caller must process them exactly
    as if a method had returned them.
    """

    def __init__(
        self, message: str, *, status: int | None = None, events: Sequence[Event] = ()
    ) -> None:
        super().__init__(message, status=status)
        self.events: list[Event] = list(events)


class SocketIOProtocolError(BadRequest):
    """The peer sent a malformed Socket.IO packet; the connection must be closed."""


class OriginRejected(ClientError):
    """The request's ``Origin`` is not allowed by the CORS configuration."""

    status = 403
