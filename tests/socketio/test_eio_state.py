"""The Engine.IO session's transition tables and what a forbidden input does."""

from __future__ import annotations

import pytest

from balto.socketio.engineio import EngineConfig, EngineSession, Transport
from balto.socketio.engineio.state import (
    HEARTBEAT_TRANSITIONS,
    POLL_TRANSITIONS,
    UPGRADE_TRANSITIONS,
    Heartbeat,
    HeartbeatInput,
    LocalProtocolError,
    Machine,
    Poll,
    PollInput,
    Upgrade,
    UpgradeInput,
)
from balto.socketio.errors import EngineProtocolError


def test_every_state_has_a_row() -> None:
    assert set(UPGRADE_TRANSITIONS) == set(Upgrade)
    assert set(POLL_TRANSITIONS) == set(Poll)
    assert set(HEARTBEAT_TRANSITIONS) == set(Heartbeat)


def test_the_upgrade_handshake_path() -> None:
    machine = Machine("upgrade", UPGRADE_TRANSITIONS, Upgrade.NONE)
    for event, state in [
        (UpgradeInput.BEGIN, Upgrade.PROBING),
        (UpgradeInput.ABORT, Upgrade.ABORTED),
        (UpgradeInput.BEGIN, Upgrade.PROBING),
        (UpgradeInput.PROBE, Upgrade.PROBED),
        (UpgradeInput.CONFIRM, Upgrade.ACTIVE),
    ]:
        assert machine.fire(event) is state
    for event in UpgradeInput:
        assert not machine.allows(event)  # ACTIVE is final
    with pytest.raises(LocalProtocolError, match="begin not allowed in state active"):
        machine.fire(UpgradeInput.BEGIN)
    assert machine.state is Upgrade.ACTIVE  # a refused input changes nothing


def test_closed_is_final_for_the_heartbeat() -> None:
    machine = Machine("heartbeat", HEARTBEAT_TRANSITIONS, Heartbeat.WAITING)
    machine.fire(HeartbeatInput.PING_SENT)
    with pytest.raises(LocalProtocolError):
        machine.fire(HeartbeatInput.PING_SENT)
    machine.fire(HeartbeatInput.CLOSE)
    with pytest.raises(LocalProtocolError):
        machine.fire(HeartbeatInput.PONG)


def test_session_maps_forbidden_inputs() -> None:
    session = EngineSession("s", Transport.POLLING, 0.0, EngineConfig())
    with pytest.raises(LocalProtocolError):  # local misuse: no GET parked
        session.poll_get()
    assert session.begin_get(0.0) is not None
    assert session.begin_get(0.0) is None  # parked
    with pytest.raises(EngineProtocolError):  # the peer's fault: the session closes
        session.begin_get(0.0)
    assert session.closed and session.poll_get() == b"1"
    session.cancel_get()  # no GET parked: still allowed, nothing to cancel
    assert POLL_TRANSITIONS[Poll.IDLE][PollInput.CANCEL] is Poll.IDLE
