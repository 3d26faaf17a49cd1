"""The Socket.IO server over Engine.IO sessions, driven like a shell would: the harness acts on
the returned events (wakes, handlers, acks) the way :class:`SocketIOShell` does, minus Trio."""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Iterator
from itertools import count
from typing import Any

import pytest

from balto.socketio import (
    CloseReason,
    ConnectionRefused,
    EngineConfig,
    EngineSession,
    SocketIOServer,
    Transport,
)
from balto.socketio.events import Connected, Event, EventReceived, OutputPending, Rejected
from balto.socketio.handlers import AckCallback, Handlers


def _ids() -> Iterator[str]:
    for n in count():
        yield f"id{n}"


class Harness:
    def __init__(self) -> None:
        ids = _ids()
        self.wakes: list[str] = []
        self.server = SocketIOServer(
            EngineConfig(ping_interval=25, ping_timeout=20), new_id=lambda: next(ids)
        )
        self.handlers = Handlers()
        self.on, self.on_connect = self.handlers.on, self.handlers.on_connect
        self.disconnects: list[tuple[str, str]] = []
        self.handlers.on_disconnect(lambda sid, reason: self.disconnects.append((sid, reason)))

    def act(self, events: list[Event], *, rejected_ok: bool = False) -> list[Rejected]:
        """What the shell does with the events: wake, run handlers, feed answers back. A
        ``Rejected`` fails the test unless ``rejected_ok``."""
        pending, rejected = deque(events), []
        while pending:
            event = pending.popleft()
            if isinstance(event, OutputPending):
                self.wakes.append(event.engine_sid)
            elif isinstance(event, Rejected):
                rejected.append(event)
            else:
                pending.extendleft(reversed(self.handlers.run(self.server, event)))
        assert rejected_ok or not rejected, rejected
        return rejected

    def emit(self, event: str, *args: Any, to: str, callback: AckCallback) -> None:
        ack_id, events = self.server.emit_with_ack(event, *args, to=to)
        self.handlers.expect_ack(to, ack_id, callback)
        self.act(events)

    def polling_client(self) -> EngineSession:
        session = self.server.open_session(Transport.POLLING, 0.0)
        body, events = self.server.handle_get(session, 0.0)
        assert not self.act(events)
        assert body is not None and body.startswith(b"0{")
        return session

    def post(
        self, session: EngineSession, *messages: str, now: float = 1.0, rejected_ok: bool = False
    ) -> list[Rejected]:
        body = "\x1e".join("4" + m for m in messages).encode()
        return self.act(self.server.handle_post(session, body, now), rejected_ok=rejected_ok)

    def get(self, session: EngineSession, now: float = 1.0) -> list[str]:
        body, events = self.server.handle_get(session, now)
        assert not self.act(events)
        if body is None:
            session.cancel_get()
            return []
        return body.decode().split("\x1e")

    def connect(self, session: EngineSession, auth: str = "") -> str:
        self.post(session, "0" + auth)
        (reply,) = self.get(session)
        assert reply.startswith("40{")
        sid: str = json.loads(reply[2:])["sid"]
        return sid


@pytest.fixture
def h() -> Harness:
    return Harness()


def test_connect_gets_a_new_sid(h: Harness) -> None:
    seen: list[tuple[str, Any]] = []
    h.on_connect(lambda sid, auth: seen.append((sid, auth)))
    a = h.polling_client()
    sid = h.connect(a, '{"token":"t"}')
    assert sid != a.sid
    assert seen == [(sid, {"token": "t"})]
    assert h.server.sids == {sid}
    assert h.server.engine_sid(sid) == a.sid
    b = h.polling_client()
    assert h.connect(b) not in (sid, b.sid)
    assert seen[1][1] is None


def test_other_namespaces_are_rejected(h: Harness) -> None:
    a = h.polling_client()
    h.post(a, "0/admin,")
    assert h.get(a) == ['44/admin,{"message":"Invalid namespace"}']
    assert not h.server.sids and not a.closed


def test_connect_refused(h: Harness) -> None:
    h.on_connect(lambda sid, auth: False)
    a = h.polling_client()
    h.post(a, "0")
    assert h.get(a) == ['44{"message":"Connection rejected by server"}']

    def refuse(sid: str, auth: Any) -> None:
        h.server.emit("never-sent", to=sid)
        raise ConnectionRefused("nope", {"code": 7})

    h.on_connect(refuse)
    h.post(a, "0")
    assert h.get(a) == ['44{"message":"nope","data":{"code":7}}']
    assert not h.server.sids


def test_emits_in_connect_handler_follow_the_connect_packet(h: Harness) -> None:
    h.on_connect(lambda sid, auth: h.server.emit("welcome", sid, to=sid))
    a = h.polling_client()
    h.post(a, "0")
    reply = h.get(a)
    sid = json.loads(reply[0][2:])["sid"]
    assert reply[1] == f'42["welcome","{sid}"]'


def test_event_handler_return_value_is_the_ack(h: Harness) -> None:
    calls: list[tuple[Any, ...]] = []

    def handler(sid: str, *args: Any) -> Any:
        calls.append((sid, *args))
        return args[0] if len(args) == 1 else tuple(args)

    h.on("echo", handler)
    h.on("silent", lambda sid: None)
    a = h.polling_client()
    sid = h.connect(a)
    h.post(a, '2["echo",1]', '212["echo",{"x":[1,2]}]', '213["echo","a","b"]', '27["silent"]')
    assert calls[0] == (sid, 1)
    assert h.get(a) == ['4312[{"x":[1,2]}]', '4313["a","b"]', "437[]"]
    h.post(a, '29["unknown"]')  # no handler: no ack
    assert h.get(a) == []


def test_binary_event_and_binary_ack(h: Harness) -> None:
    h.on("upload", lambda sid, blob: {"size": len(blob), "echo": blob})
    a = h.polling_client()
    h.connect(a)
    h.act(h.server.handle_post(a, b'451-5["upload",{"_placeholder":true,"num":0}]\x1ebAQID', 1.0))
    assert h.get(a) == ['461-5[{"size":3,"echo":{"_placeholder":true,"num":0}}]', "bAQID"]


def test_events_before_connect_are_ignored(h: Harness) -> None:
    h.on("x", lambda sid: pytest.fail("must not run"))
    a = h.polling_client()
    h.post(a, '21["x"]')
    assert h.get(a) == []


def test_rooms(h: Harness) -> None:
    clients = [h.polling_client() for _ in range(3)]
    sids = [h.connect(c) for c in clients]
    h.server.enter_room(sids[0], "counter-1")
    h.server.enter_room(sids[1], "counter-1")
    h.server.emit("alert", {"n": 1}, to="counter-1")
    assert [h.get(c) for c in clients] == [['42["alert",{"n":1}]'], ['42["alert",{"n":1}]'], []]
    h.server.emit("alert", 2, to="counter-1", skip_sid=sids[0])
    assert [h.get(c) for c in clients] == [[], ['42["alert",2]'], []]
    h.server.leave_room(sids[1], "counter-1")
    h.server.emit("one", to=sids[2])
    h.server.emit("room", to="counter-1")
    assert [h.get(c) for c in clients] == [['42["room"]'], [], ['42["one"]']]
    h.server.emit("all")
    assert [h.get(c) for c in clients] == [['42["all"]']] * 3
    assert h.server.rooms_of(sids[0]) == {sids[0], "counter-1"}


def test_server_ack_callback(h: Harness) -> None:
    got: list[Any] = []
    a = h.polling_client()
    sid = h.connect(a)
    h.emit("question", 1, to=sid, callback=lambda *args: got.append(args))
    assert h.get(a) == ['420["question",1]']
    h.post(a, '30["yes",2]')
    assert got == [("yes", 2)]
    with pytest.raises(ValueError):
        h.server.emit_with_ack("q", to="no-such-sid")  # an ack needs one connected sid
    h.post(a, '30["again"]')  # answered already: ignored
    assert got == [("yes", 2)]


def test_client_disconnect_keeps_the_engine_session(h: Harness) -> None:
    a = h.polling_client()
    sid = h.connect(a)
    h.server.enter_room(sid, "r")
    h.post(a, "1")
    assert h.disconnects == [(sid, "client disconnect")]
    assert not a.closed and h.server.session(a.sid) is a
    assert h.server.room_members("r") == frozenset()
    assert h.connect(a) != sid  # the same engine session can connect again


def test_server_disconnect_sends_41(h: Harness) -> None:
    a = h.polling_client()
    sid = h.connect(a)
    h.act(h.server.disconnect(sid))
    assert h.get(a) == ["41"]
    assert h.disconnects == [(sid, "server disconnect")]
    h.act(h.server.close_connection(sid, 2.0))  # already gone: no-op


def test_close_connection(h: Harness) -> None:
    a = h.polling_client()
    sid = h.connect(a)
    h.act(h.server.close_connection(sid, 2.0))
    assert h.get(a, 2.0) == ["41", "1"]
    assert h.disconnects == [(sid, "server disconnect")]
    assert h.server.session(a.sid) is None  # flushed: forgotten


def test_engine_close_disconnects_the_socket(h: Harness) -> None:
    a = h.polling_client()
    sid = h.connect(a)
    h.act(h.server.handle_post(a, b"1", 1.0))
    assert h.disconnects == [(sid, "client disconnect")]
    assert h.server.session(a.sid) is None
    assert not h.server.sids


def test_ping_timeout_disconnects(h: Harness) -> None:
    a = h.polling_client()
    sid = h.connect(a)
    assert h.server.next_deadline() == 25.0
    h.act(h.server.on_timer(25.0))
    assert h.get(a, 25.0) == ["2"]
    h.act(h.server.on_timer(45.0))
    assert h.disconnects == [(sid, "ping timeout")]
    assert h.server.session(a.sid) is None  # forgotten at once: its next GET is a 400
    assert h.server.session_count == 0


def test_malformed_socketio_packet_closes_the_connection(h: Harness) -> None:
    a = h.polling_client()
    sid = h.connect(a)
    assert [r.status for r in h.post(a, '2["disconnect"]', rejected_ok=True)] == [400]
    assert a.closed
    assert h.disconnects == [(sid, "transport error")]


def test_double_get_through_the_server(h: Harness) -> None:
    a = h.polling_client()
    sid = h.connect(a)
    assert h.server.handle_get(a, 2.0) == (None, [])
    body, events = h.server.handle_get(a, 2.0)
    assert body is None and [r.status for r in h.act(events, rejected_ok=True)] == [400]
    assert OutputPending(a.sid) in events  # the parked GET must wake to answer "1"
    assert a.poll_get() == b"1"
    assert h.disconnects == [(sid, "transport error")]


def test_full_upgrade_flow_keeps_order(h: Harness) -> None:
    h.on("ping-me", lambda sid: "pong")
    a = h.polling_client()
    sid = h.connect(a)
    assert h.server.handle_get(a, 1.0) == (None, [])  # parked poll
    h.act(h.server.begin_upgrade(a))
    h.server.emit("before-probe")
    assert a.poll_get() == b'42["before-probe"]'
    assert h.server.handle_get(a, 1.0) == (None, [])
    h.act(h.server.handle_ws_frame(a, "2probe", 1.1))
    assert a.poll_get() == b"6"
    h.server.emit("during", b"\x07")
    h.act(h.server.handle_post(a, b'421["ping-me"]', 1.2))  # POSTs still accepted while upgrading
    assert a.take_ws_output().frames == ["3probe"]
    h.act(h.server.handle_ws_frame(a, "5", 1.3))
    out = a.take_ws_output()
    assert out.frames == ['451-["during",{"_placeholder":true,"num":0}]', b"\x07", '431["pong"]']
    h.act(h.server.handle_ws_frame(a, '422["ping-me"]', 1.4))
    assert a.take_ws_output().frames == ['432["pong"]']
    h.act(h.server.handle_ws_closed(a, 2.0))
    assert h.disconnects == [(sid, "transport close")]
    assert h.server.session(a.sid) is None


def test_direct_websocket_session(h: Harness) -> None:
    got: list[Any] = []
    h.on("bin", lambda sid, *args: got.append(args))
    ws = h.server.open_session(Transport.WEBSOCKET, 0.0)
    (handshake,) = ws.take_ws_output().frames
    assert isinstance(handshake, str) and handshake.startswith("0{")
    h.act(h.server.handle_ws_frame(ws, "40", 0.1))
    (connect,) = ws.take_ws_output().frames
    assert isinstance(connect, str) and connect.startswith("40{")
    h.act(h.server.handle_ws_frame(ws, '451-["bin",{"_placeholder":true,"num":0},2]', 0.2))
    assert got == []
    h.act(h.server.handle_ws_frame(ws, b"\xff", 0.3))
    assert got == [(b"\xff", 2)]


def test_shutdown_closes_everything(h: Harness) -> None:
    a = h.polling_client()
    sid = h.connect(a)
    h.act(h.server.shutdown(5.0))
    assert h.disconnects == [(sid, "server disconnect")]
    assert h.get(a, 5.0) == ["1"]


def test_the_server_calls_no_handler_and_names_whom_to_wake(h: Harness) -> None:
    a, b = h.polling_client(), h.polling_client()
    events = h.server.handle_post(a, b"40", 1.0)
    assert events == [Connected("id2", None)]  # no CONNECT packet until it is accepted
    assert h.server.handle_get(a, 1.0) == (None, [])
    assert h.server.accept("id2") == [OutputPending(a.sid)]
    sid_b = h.connect(b)
    events = h.server.handle_post(b, b'423["hello",1]', 1.0)
    assert events == [EventReceived(sid_b, "hello", (1,), 3)]
    assert h.server.ack(sid_b, 3, "hi") == [OutputPending(b.sid)]
    h.server.enter_room(sid_b, "r")
    assert h.server.emit("news", to="r") == [OutputPending(b.sid)]
    assert h.server.emit("none", to="empty-room") == []


def test_events_batched_after_a_refused_connect_never_reach_a_handler(h: Harness) -> None:
    """CONNECT and EVENT in one POST: a refused socket's event must not run (it was never
    connected), as when the connect handler ran before the next packet was decoded."""
    called: list[str] = []
    h.on_connect(lambda sid, auth: False)
    h.on("secret", lambda sid, *args: called.append(sid))
    a = h.polling_client()
    h.post(a, "0", '2["secret","payload"]')
    assert called == []
    assert any(frame.startswith("44") for frame in h.get(a))


def test_events_after_a_handler_disconnected_the_socket_never_run(h: Harness) -> None:
    called: list[str] = []
    h.on("bye", lambda sid: h.act(h.server.disconnect(sid)))
    h.on("after", lambda sid: called.append(sid))
    a = h.polling_client()
    h.post(a, "0")
    h.get(a)
    h.post(a, '2["bye"]', '2["after"]')
    assert called == []


def test_a_session_that_never_connects_is_closed_after_connect_timeout() -> None:
    """The reference server's ``connectTimeout``: no Socket.IO CONNECT in time, no session."""
    server = SocketIOServer(EngineConfig(ping_interval=25, ping_timeout=20, connect_timeout=5))
    silent = server.open_session(Transport.POLLING, 0.0)
    talker = server.open_session(Transport.POLLING, 0.0)
    server.handle_post(talker, b"40", 1.0)
    assert server.next_deadline() == 5.0
    server.on_timer(5.0)
    assert silent.closed and silent.close_reason is CloseReason.SERVER_DISCONNECT
    assert not talker.closed
    assert server.next_deadline() == 25.0  # no connect deadline left behind
    assert silent.begin_get(5.0) is not None  # the open packet, then the close packet
    assert server.session(silent.sid) is not None
    server.on_timer(25.0)


def test_connect_timeout_does_not_close_a_socket_that_disconnected_later() -> None:
    server = SocketIOServer(EngineConfig(connect_timeout=5))
    session = server.open_session(Transport.WEBSOCKET, 0.0)
    server.handle_ws_frame(session, "40", 1.0)
    server.handle_ws_frame(session, "41", 2.0)
    server.on_timer(5.0)
    assert not session.closed
