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
    """Session parameters; times in seconds (the open packet carries milliseconds).

    ``connect_timeout`` is the Socket.IO layer's (the reference server's ``connectTimeout``):
    a session that has not sent a Socket.IO CONNECT by then is closed. The Engine.IO session
    itself does not read it."""

    ping_interval: float = 25.0
    ping_timeout: float = 20.0
    max_payload: int = 1_000_000
    connect_timeout: float = 45.0

    def __post_init__(self) -> None:
        values = (self.ping_interval, self.ping_timeout, self.max_payload, self.connect_timeout)
        if min(values) <= 0:
            raise ValueError(
                "ping_interval, ping_timeout, max_payload and connect_timeout must be positive"
            )


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
