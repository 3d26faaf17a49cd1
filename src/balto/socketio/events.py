"""What the sans-IO :class:`~balto.socketio.server.SocketIOServer` hands back to its shell.

Every entry point of the server returns a list of these frozen events, in order. The shell acts
on each: it wakes the writers of a session on :class:`OutputPending`, calls the application's
handlers on :class:`Connected`, :class:`EventReceived`, :class:`AckReceived` and
:class:`Disconnected` (and feeds their answers back with ``accept``/``refuse``/``ack``), and
answers the request that caused a :class:`Rejected` with its status.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = [
    "AckReceived",
    "Connected",
    "Disconnected",
    "Event",
    "EventReceived",
    "OutputPending",
    "Rejected",
]


@dataclass(frozen=True, slots=True)
class OutputPending:
    """Engine.IO session ``engine_sid`` has news for its parked GET or its WebSocket writer
    (output queued, upgrade progress, or it closed)."""

    engine_sid: str


@dataclass(frozen=True, slots=True)
class Connected:
    """A client asks to join namespace ``/`` as ``sid``. Answer with ``accept(sid)`` or
    ``refuse(sid, payload)``; emits to ``sid`` before that follow the CONNECT packet."""

    sid: str
    auth: Any


@dataclass(frozen=True, slots=True)
class EventReceived:
    """Socket.IO ``sid`` sent ``event(*args)``; if ``ack_id`` is set, answer with ``ack``."""

    sid: str
    event: str
    args: tuple[Any, ...]
    ack_id: int | None = None


@dataclass(frozen=True, slots=True)
class AckReceived:
    """Socket.IO ``sid`` acknowledged the server's emit ``ack_id`` with ``args``."""

    sid: str
    ack_id: int
    args: tuple[Any, ...]


@dataclass(frozen=True, slots=True)
class Disconnected:
    """Socket.IO ``sid`` left namespace ``/`` (python-socketio's reason strings)."""

    sid: str
    reason: str


@dataclass(frozen=True, slots=True)
class Rejected:
    """The input that produced this broke the protocol or a limit: answer its request with
    ``status`` (HTTP) or just log it (WebSocket). The session state is already updated."""

    status: int
    message: str


Event = OutputPending | Connected | EventReceived | AckReceived | Disconnected | Rejected
