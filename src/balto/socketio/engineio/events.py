"""Configuration, enums and events of an Engine.IO session."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

__all__ = [
    "CloseReason",
    "Closed",
    "EngineConfig",
    "Event",
    "MessageReceived",
    "Transport",
    "UpgradeAborted",
    "Upgraded",
    "WsOutput",
]


class Transport(StrEnum):
    POLLING = "polling"
    WEBSOCKET = "websocket"


class CloseReason(StrEnum):
    """Why a session ended (the strings python-engineio hands to disconnect handlers)."""

    CLIENT_DISCONNECT = "client disconnect"
    SERVER_DISCONNECT = "server disconnect"
    PING_TIMEOUT = "ping timeout"
    TRANSPORT_CLOSE = "transport close"
    TRANSPORT_ERROR = "transport error"


@dataclass(frozen=True, slots=True)
class EngineConfig:
    """Session parameters; times in seconds (the open packet carries milliseconds)."""

    ping_interval: float = 25.0
    ping_timeout: float = 20.0
    max_payload: int = 1_000_000

    def __post_init__(self) -> None:
        if self.ping_interval <= 0 or self.ping_timeout <= 0 or self.max_payload <= 0:
            raise ValueError("ping_interval, ping_timeout and max_payload must be positive")


@dataclass(frozen=True, slots=True)
class MessageReceived:
    """The client sent a message (``str`` for text, ``bytes`` for binary)."""

    data: str | bytes


@dataclass(frozen=True, slots=True)
class Upgraded:
    """The client completed the polling → WebSocket upgrade; output now drains on the socket."""


@dataclass(frozen=True, slots=True)
class UpgradeAborted:
    """The upgrade attempt failed; the session goes on over polling. Close the WebSocket."""


@dataclass(frozen=True, slots=True)
class Closed:
    """The session ended. Emitted exactly once per session."""

    reason: CloseReason


Event = MessageReceived | Upgraded | UpgradeAborted | Closed


@dataclass(frozen=True, slots=True)
class WsOutput:
    """What a WebSocket writer must do: send ``frames`` in order (``bytes`` = binary frame),
    then close the WebSocket if ``close`` is true."""

    frames: list[str | bytes]
    close: bool
