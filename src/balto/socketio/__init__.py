"""Socket.IO v5 / Engine.IO v4 server core, sans-IO (h11 style).

Nothing here does I/O, reads a clock, spawns tasks or calls application code: a shell feeds
requests, frames and the current time into :class:`SocketIOServer`, performs the I/O it asks for
and acts on the :mod:`events <balto.socketio.events>` it returns (waking writers, calling the
handlers kept in :class:`Handlers`). See :mod:`balto.socketio.server` for the contract.
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
from balto.socketio.events import (
    AckReceived,
    Connected,
    Disconnected,
    Event,
    EventReceived,
    OutputPending,
    Rejected,
)
from balto.socketio.handlers import Handlers
from balto.socketio.server import SocketIOServer

__all__ = [
    "AckReceived",
    "CloseReason",
    "Connected",
    "ConnectionRefused",
    "CorsConfig",
    "Disconnected",
    "EngineConfig",
    "EngineProtocolError",
    "EngineRequest",
    "EngineSession",
    "Event",
    "EventReceived",
    "Handlers",
    "OriginRejected",
    "OutputPending",
    "Rejected",
    "RequestKind",
    "SocketIOProtocolError",
    "SocketIOServer",
    "Transport",
    "WsOutput",
    "check_cors",
]
