"""The Engine.IO session state machine: polling, upgrade, heartbeat."""

from __future__ import annotations

import json

import pytest

from balto.core.errors import PayloadTooLarge
from balto.socketio.engineio import (
    Closed,
    CloseReason,
    EngineConfig,
    EngineSession,
    MessageReceived,
    Transport,
    UpgradeAborted,
    Upgraded,
    WsOutput,
)
from balto.socketio.errors import EngineProtocolError

CONFIG = EngineConfig(ping_interval=25.0, ping_timeout=20.0, max_payload=1_000_000)


def polling(now: float = 0.0) -> EngineSession:
    session = EngineSession("SID", Transport.POLLING, now, CONFIG)
    assert session.begin_get(now) is not None  # the handshake GET takes the open packet
    session.take_wakeup()
    return session


def test_open_packet_for_polling() -> None:
    session = EngineSession("abc", Transport.POLLING, 0.0, CONFIG)
    body = session.begin_get(0.0)
    assert body is not None and body.startswith(b"0")
    assert json.loads(body[1:]) == {
        "sid": "abc",
        "upgrades": ["websocket"],
        "pingInterval": 25000,
        "pingTimeout": 20000,
        "maxPayload": 1000000,
    }


def test_open_packet_for_direct_websocket() -> None:
    session = EngineSession("abc", Transport.WEBSOCKET, 0.0, CONFIG)
    out = session.take_ws_output()
    assert not out.close and len(out.frames) == 1
    frame = out.frames[0]
    assert isinstance(frame, str) and frame.startswith("0")
    assert json.loads(frame[1:])["upgrades"] == []
    with pytest.raises(EngineProtocolError):
        session.begin_get(0.0)  # no HTTP on a websocket session


def test_get_parks_until_data_then_drains_everything() -> None:
    session = polling()
    assert session.begin_get(1.0) is None  # parked
    assert session.poll_get() is None
    assert not session.take_wakeup()
    session.send_message("a")
    session.send_message(b"\x00\xff")
    assert session.take_wakeup() and not session.take_wakeup()  # read once, then cleared
    assert session.poll_get() == b"4a\x1ebAP8="
    with pytest.raises(RuntimeError):
        session.poll_get()  # answered: no GET pending any more


def test_cancelled_get_loses_nothing() -> None:
    session = polling()
    assert session.begin_get(1.0) is None
    session.cancel_get()
    session.send_message("kept")
    assert session.begin_get(2.0) == b"4kept"


def test_post_delivers_messages() -> None:
    session = polling()
    events = session.receive_post(b"4hello\x1ebAQI=", 1.0)
    assert events == [MessageReceived("hello"), MessageReceived(b"\x01\x02")]


def test_post_over_max_payload_is_413_and_closes_the_session() -> None:
    session = EngineSession("s", Transport.POLLING, 0.0, EngineConfig(max_payload=10))
    assert session.begin_get(0.0) is not None
    assert session.begin_get(0.5) is None  # a GET is parked when the oversized POST comes
    with pytest.raises(PayloadTooLarge) as info:
        session.receive_post(b"4" + b"x" * 10, 1.0)
    assert info.value.status == 413
    assert session.close_reason is CloseReason.TRANSPORT_ERROR
    assert session.poll_get() == b"1"  # the parked GET is released at once, not after 25 s
    assert session.discardable(1.0)


def test_malformed_post_closes_with_transport_error() -> None:
    session = polling()
    with pytest.raises(EngineProtocolError):
        session.receive_post(b"9nope", 1.0)
    assert session.close_reason is CloseReason.TRANSPORT_ERROR
    assert session.closed


def test_double_get_is_an_error_and_closes_the_session() -> None:
    session = polling()
    assert session.begin_get(1.0) is None
    with pytest.raises(EngineProtocolError) as info:
        session.begin_get(1.5)
    assert info.value.status == 400
    assert session.close_reason is CloseReason.TRANSPORT_ERROR
    assert session.poll_get() == b"1"  # the first GET learns the session is gone


def test_client_close_packet() -> None:
    session = polling()
    assert session.receive_post(b"1", 1.0) == [Closed(CloseReason.CLIENT_DISCONNECT)]
    assert session.discardable(1.0)


def test_client_close_releases_the_parked_get_with_noop_like_the_reference() -> None:
    session = polling()
    session.send_message("never read")
    assert session.begin_get(1.0) is not None
    assert session.begin_get(1.5) is None
    assert session.receive_post(b"1", 2.0) == [Closed(CloseReason.CLIENT_DISCONNECT)]
    assert session.poll_get() == b"6"
    assert session.discardable(2.0)


def test_server_close_queues_close_packet_and_lingers() -> None:
    session = polling()
    assert session.close(5.0) == [Closed(CloseReason.SERVER_DISCONNECT)]
    assert session.close(6.0) == []  # only once
    session.send_message("dropped")
    assert not session.discardable(6.0)
    assert session.next_deadline() == 25.0  # linger: ping_timeout after the close
    assert session.discardable(25.0)
    assert session.begin_get(7.0) == b"1"
    assert session.discardable(7.0)


def test_upgrade_sequence_keeps_order_and_answers_pending_get_with_noop() -> None:
    session = polling()
    session.send_message("m1")
    assert session.begin_get(1.0) == b"4m1"
    assert session.begin_get(1.1) is None  # parked GET during the upgrade
    session.begin_upgrade()
    assert session.upgrading
    session.send_message("m2")  # before the probe: still deliverable over polling
    assert session.poll_get() == b"4m2"
    assert session.begin_get(1.2) is None
    assert session.receive_ws_frame("2probe", 1.3) == []
    assert session.take_ws_output().frames == ["3probe"]
    session.send_message("m3")
    session.take_wakeup()
    assert session.poll_get() == b"6"  # pending GET released with noop, m3 stays queued
    assert session.begin_get(1.4) == b"6"  # a new GET too
    session.send_message("m4")
    assert session.take_ws_output().frames == []  # nothing drains on the socket before "5"
    assert session.receive_ws_frame("5", 1.5) == [Upgraded()]
    assert session.take_wakeup()
    assert (session.transport, session.upgrading) == (Transport.WEBSOCKET, False)
    out = session.take_ws_output()
    assert out.frames == ["4m3", "4m4"] and not out.close
    session.send_message(b"\x01")
    assert session.take_ws_output().frames == [b"\x01"]
    with pytest.raises(EngineProtocolError):
        session.begin_get(2.0)  # HTTP after the upgrade is refused
    with pytest.raises(EngineProtocolError):
        session.receive_post(b"4x", 2.0)


def test_noop_never_goes_on_the_websocket() -> None:
    session = polling()
    session.begin_upgrade()
    session.receive_ws_frame("2probe", 1.0)
    assert session.begin_get(1.0) == b"6"
    session.receive_ws_frame("5", 1.0)
    session.on_timer(25.0)  # ping
    frames = session.take_ws_output().frames
    assert frames == ["3probe", "2"]


def test_failed_upgrade_falls_back_to_polling() -> None:
    session = polling()
    session.send_message("kept")
    session.begin_upgrade()
    assert session.receive_ws_frame("4garbage", 1.0) == [UpgradeAborted()]
    out = session.take_ws_output()
    assert out.close and out.frames == []
    assert session.transport is Transport.POLLING and not session.upgrading
    assert session.begin_get(2.0) == b"4kept"
    session.begin_upgrade()  # a new attempt is allowed
    assert session.websocket_closed(3.0) == [UpgradeAborted()]
    assert not session.closed


def test_second_upgrade_while_upgrading_is_refused() -> None:
    session = polling()
    session.begin_upgrade()
    with pytest.raises(EngineProtocolError):
        session.begin_upgrade()


def test_websocket_messages_and_close() -> None:
    session = EngineSession("s", Transport.WEBSOCKET, 0.0, CONFIG)
    session.take_ws_output()
    assert session.receive_ws_frame("4hi", 1.0) == [MessageReceived("hi")]
    assert session.receive_ws_frame(b"\x02", 1.0) == [MessageReceived(b"\x02")]
    with pytest.raises(EngineProtocolError):
        session.receive_ws_frame("x", 1.0)
    assert session.close_reason is CloseReason.TRANSPORT_ERROR
    out = session.take_ws_output()
    assert out.frames == ["1"] and out.close


def test_websocket_transport_close() -> None:
    session = EngineSession("s", Transport.WEBSOCKET, 0.0, CONFIG)
    assert session.websocket_closed(3.0) == [Closed(CloseReason.TRANSPORT_CLOSE)]
    assert session.take_ws_output().close


def test_ping_pong_cycle_with_explicit_times() -> None:
    session = polling(now=100.0)
    assert session.next_deadline() == 125.0
    assert session.on_timer(124.9) == []
    assert session.begin_get(124.9) is None
    assert session.on_timer(125.0) == []
    assert session.poll_get() == b"2"
    assert session.next_deadline() == 145.0  # pong deadline
    assert session.receive_post(b"3", 130.0) == []
    assert session.next_deadline() == 155.0  # next ping: interval after the pong
    assert session.on_timer(150.0) == []
    assert not session.closed


def test_ping_timeout_closes_session() -> None:
    session = polling(now=0.0)
    session.on_timer(25.0)
    assert session.on_timer(44.9) == []
    assert session.on_timer(45.0) == [Closed(CloseReason.PING_TIMEOUT)]
    assert session.close_reason is CloseReason.PING_TIMEOUT
    assert session.discardable(45.0)  # forgotten at once: the next GET is a 400


def test_ping_timeout_releases_a_parked_get_with_close() -> None:
    session = polling(now=0.0)
    session.on_timer(25.0)
    assert session.begin_get(25.0) == b"2"
    assert session.begin_get(26.0) is None  # parked, and the pong never comes
    assert session.on_timer(45.0) == [Closed(CloseReason.PING_TIMEOUT)]
    assert session.poll_get() == b"1"
    assert session.discardable(45.0)


def test_client_ping_gets_pong() -> None:
    session = polling()
    session.receive_post(b"2", 1.0)
    assert session.begin_get(1.0) == b"3"


def test_close_during_upgrade_is_still_delivered_over_polling() -> None:
    session = polling()
    session.begin_upgrade()
    session.receive_ws_frame("2probe", 1.0)
    assert session.begin_get(1.0) == b"6"
    session.close(2.0)
    assert session.take_ws_output() == WsOutput(["3probe"], close=True)
    assert session.begin_get(2.0) == b"1"


def test_oversized_websocket_frame_closes_the_session() -> None:
    session = EngineSession("s", Transport.WEBSOCKET, 0.0, EngineConfig(max_payload=10))
    with pytest.raises(EngineProtocolError) as info:
        session.receive_ws_frame(b"x" * 11, 1.0)
    assert info.value.status == 413
    assert session.close_reason is CloseReason.TRANSPORT_ERROR
