"""Engine.IO v4, server side, sans-IO."""

from balto.socketio.engineio.events import (
    Closed,
    CloseReason,
    EngineConfig,
    Event,
    MessageReceived,
    Transport,
    UpgradeAborted,
    Upgraded,
    WsOutput,
)
from balto.socketio.engineio.packets import Packet, PacketType
from balto.socketio.engineio.registry import EngineRequest, EngineServer, RequestKind
from balto.socketio.engineio.session import EngineSession

__all__ = [
    "CloseReason",
    "Closed",
    "EngineConfig",
    "EngineRequest",
    "EngineServer",
    "EngineSession",
    "Event",
    "MessageReceived",
    "Packet",
    "PacketType",
    "RequestKind",
    "Transport",
    "UpgradeAborted",
    "Upgraded",
    "WsOutput",
]
