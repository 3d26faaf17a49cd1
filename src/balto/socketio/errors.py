"""Protocol errors of the Engine.IO / Socket.IO core.

All of them are :class:`balto.core.errors.ClientError` subclasses, so a shell can map them to an
HTTP status (``exc.status``) or close the connection without special cases.
"""

from __future__ import annotations

from balto.core.errors import BadRequest, ClientError, PayloadTooLarge

__all__ = [
    "EngineProtocolError",
    "OriginRejected",
    "PayloadTooLarge",
    "SocketIOProtocolError",
]


class EngineProtocolError(BadRequest):
    """The peer broke the Engine.IO protocol (bad packet, bad request, double GET...).

    Raised by :class:`~balto.socketio.engineio.session.EngineSession` *after* it updated its
    state (closed, or aborted the upgrade); it carries nothing else. The public
    :class:`~balto.socketio.server.SocketIOServer` turns it into a ``Rejected`` event.
    """


class SocketIOProtocolError(BadRequest):
    """The peer sent a malformed Socket.IO packet; the connection must be closed."""


class OriginRejected(ClientError):
    """The request's ``Origin`` is not allowed by the CORS configuration."""

    status = 403
