"""The Engine.IO session's state machines as data (in the manner of h11's ``_state.py``).

A session runs three small machines side by side; each is one transition table:

* :data:`UPGRADE_TRANSITIONS`: which transport carries the session, and the polling → WebSocket
  upgrade handshake (``2probe`` / ``3probe`` / ``5``);
* :data:`POLL_TRANSITIONS`: whether a long-polling GET is parked;
* :data:`HEARTBEAT_TRANSITIONS`: what the session's single deadline means (next ping due, pong
  due, or end of the linger time once closed).

:meth:`Machine.fire` applies an input; an input the current state does not allow raises
:class:`LocalProtocolError`. The session decides what a forbidden input means for the peer.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import Enum
from typing import Generic, TypeVar

__all__ = [
    "HEARTBEAT_TRANSITIONS",
    "POLL_TRANSITIONS",
    "UPGRADE_TRANSITIONS",
    "Heartbeat",
    "HeartbeatInput",
    "LocalProtocolError",
    "Machine",
    "Poll",
    "PollInput",
    "Upgrade",
    "UpgradeInput",
]


class LocalProtocolError(RuntimeError):
    """An input the machine's current state forbids."""


class Upgrade(Enum):
    NONE = "none"  # polling, no WebSocket attached
    PROBING = "probing"  # WebSocket attached, waiting for "2probe"
    PROBED = "probed"  # "3probe" sent, waiting for "5"; GETs are answered with noop
    ACTIVE = "active"  # the WebSocket is the transport
    ABORTED = "aborted"  # polling; the failed upgrade's WebSocket must be closed


class UpgradeInput(Enum):
    BEGIN = "begin"  # a WebSocket arrived for this polling session
    PROBE = "probe"  # "2probe" received
    CONFIRM = "confirm"  # "5" received
    ABORT = "abort"  # anything else during the handshake
    SOCKET_GONE = "socket_gone"  # the handshake's WebSocket closed


UPGRADE_TRANSITIONS: Mapping[Upgrade, Mapping[UpgradeInput, Upgrade]] = {
    Upgrade.NONE: {UpgradeInput.BEGIN: Upgrade.PROBING},
    Upgrade.ABORTED: {UpgradeInput.BEGIN: Upgrade.PROBING},
    Upgrade.PROBING: {
        UpgradeInput.PROBE: Upgrade.PROBED,
        UpgradeInput.ABORT: Upgrade.ABORTED,
        UpgradeInput.SOCKET_GONE: Upgrade.NONE,
    },
    Upgrade.PROBED: {
        UpgradeInput.CONFIRM: Upgrade.ACTIVE,
        UpgradeInput.ABORT: Upgrade.ABORTED,
        UpgradeInput.SOCKET_GONE: Upgrade.NONE,
    },
    Upgrade.ACTIVE: {},
}


class Poll(Enum):
    IDLE = "idle"
    PARKED = "parked"  # a GET waits for a body


class PollInput(Enum):
    GET = "get"
    ANSWER = "answer"
    CANCEL = "cancel"  # the parked GET's exchange ended without a body


POLL_TRANSITIONS: Mapping[Poll, Mapping[PollInput, Poll]] = {
    Poll.IDLE: {PollInput.GET: Poll.PARKED, PollInput.CANCEL: Poll.IDLE},
    Poll.PARKED: {PollInput.ANSWER: Poll.IDLE, PollInput.CANCEL: Poll.IDLE},
}


class Heartbeat(Enum):
    WAITING = "waiting"  # the deadline is when the next ping is due
    PINGED = "pinged"  # the deadline is when the pong is due
    CLOSED = "closed"  # the deadline is when the closed session may be forgotten


class HeartbeatInput(Enum):
    PING_SENT = "ping_sent"
    PONG = "pong"
    CLOSE = "close"


HEARTBEAT_TRANSITIONS: Mapping[Heartbeat, Mapping[HeartbeatInput, Heartbeat]] = {
    Heartbeat.WAITING: {
        HeartbeatInput.PING_SENT: Heartbeat.PINGED,
        HeartbeatInput.PONG: Heartbeat.WAITING,
        HeartbeatInput.CLOSE: Heartbeat.CLOSED,
    },
    Heartbeat.PINGED: {
        HeartbeatInput.PONG: Heartbeat.WAITING,
        HeartbeatInput.CLOSE: Heartbeat.CLOSED,
    },
    Heartbeat.CLOSED: {},
}

S = TypeVar("S", bound=Enum)
I = TypeVar("I", bound=Enum)  # noqa: E741


class Machine(Generic[S, I]):
    """One state machine driven by its transition table."""

    __slots__ = ("_name", "_table", "state")

    def __init__(self, name: str, table: Mapping[S, Mapping[I, S]], initial: S) -> None:
        self._name = name
        self._table = table
        self.state = initial

    def allows(self, event: I) -> bool:
        return event in self._table[self.state]

    def fire(self, event: I) -> S:
        """Apply ``event``; raises :class:`LocalProtocolError` if the state forbids it."""
        try:
            self.state = self._table[self.state][event]
        except KeyError:
            raise LocalProtocolError(
                f"{self._name}: {event.value} not allowed in state {self.state.value}"
            ) from None
        return self.state
