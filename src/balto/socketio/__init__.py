"""Socket.IO v5 / Engine.IO v4 server core, sans-IO (h11 style).

Nothing here does I/O, reads a clock or spawns tasks: a shell feeds requests, frames and the
current time into :class:`SocketIOServer` and performs the I/O it asks for. See
:mod:`balto.socketio.server` for the contract.
"""

from balto.socketio.core import ConnectionRefused
from balto.socketio.cors import CorsConfig, check_cors
from balto.socketio.engineio import (
    CloseReason,
    EngineConfig,
    EngineRequest,
    EngineSession,
    RequestKind,
    Transport,
    WsOutput,
)
from balto.socketio.errors import EngineProtocolError, OriginRejected, SocketIOProtocolError
from balto.socketio.server import SocketIOServer

__all__ = [
    "CloseReason",
    "ConnectionRefused",
    "CorsConfig",
    "EngineConfig",
    "EngineProtocolError",
    "EngineRequest",
    "EngineSession",
    "OriginRejected",
    "RequestKind",
    "SocketIOProtocolError",
    "SocketIOServer",
    "Transport",
    "WsOutput",
    "check_cors",
]
