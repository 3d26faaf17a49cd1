"""Engine.IO request validation and the session registry."""

from __future__ import annotations

import pytest

from balto.core.errors import BadRequest, ClientError, PayloadTooLarge
from balto.socketio.engineio import EngineConfig, EngineServer, RequestKind, Transport
from balto.socketio.engineio.registry import UNSUPPORTED_VERSION, new_session_id, parse_query


def test_handshakes() -> None:
    server = EngineServer()
    req = server.classify("GET", "EIO=4&transport=polling&t=N8hyd6w", websocket=False)
    assert req.kind is RequestKind.OPEN_POLLING and req.session is None
    req = server.classify("GET", b"EIO=4&transport=websocket", websocket=True)
    assert req.kind is RequestKind.OPEN_WEBSOCKET and req.transport is Transport.WEBSOCKET
    assert server.classify("OPTIONS", "", websocket=False).kind is RequestKind.PREFLIGHT


def test_eio3_is_refused_with_400() -> None:
    server = EngineServer()
    with pytest.raises(BadRequest) as info:
        server.classify("GET", "EIO=3&transport=polling", websocket=False)
    assert info.value.status == 400 and info.value.message == UNSUPPORTED_VERSION
    with pytest.raises(BadRequest):
        server.classify("GET", "transport=polling", websocket=False)
    with pytest.raises(BadRequest):
        server.classify("GET", "EIO=abc&transport=polling", websocket=False)


@pytest.mark.parametrize(
    ("method", "query", "websocket"),
    [
        ("GET", "EIO=4&transport=flashsocket", False),
        ("GET", "EIO=4&transport=websocket", False),  # websocket transport without Upgrade
        ("GET", "EIO=4&transport=polling", True),
        ("GET", "EIO=4&transport=polling&j=0", False),  # JSONP
        ("POST", "EIO=4&transport=polling", False),  # POST without sid
        ("GET", "EIO=4&transport=polling&sid=unknown", False),
        ("POST", "EIO=4&transport=polling&sid=unknown", False),
    ],
)
def test_bad_requests(method: str, query: str, websocket: bool) -> None:
    with pytest.raises(BadRequest):
        EngineServer().classify(method, query, websocket=websocket)


@pytest.mark.parametrize("query", ["EIO=4", "EIO=4&transport=polling", "EIO=4&sid=x"])
@pytest.mark.parametrize("method", ["PUT", "DELETE", "PATCH"])
def test_other_methods_are_400_like_the_reference(method: str, query: str) -> None:
    with pytest.raises(BadRequest):
        EngineServer().classify(method, query, websocket=False)


@pytest.mark.parametrize("websocket", [False, True])
def test_missing_transport_is_400_like_the_reference(websocket: bool) -> None:
    """The reference answers ``Transport unknown`` (400): no default transport."""
    with pytest.raises(BadRequest) as info:
        EngineServer().classify("GET", "EIO=4", websocket=websocket)
    assert info.value.message == "Transport unknown"


def test_requests_for_a_session() -> None:
    server = EngineServer(EngineConfig(max_payload=100))
    session = server.open(Transport.POLLING, 0.0)
    assert server.get(session.sid) is session and len(server) == 1
    query = f"EIO=4&transport=polling&sid={session.sid}"
    assert server.classify("GET", query, websocket=False).kind is RequestKind.POLL
    post = server.classify("POST", query, websocket=False)
    assert post.kind is RequestKind.POST and post.session is session
    ws_query = f"EIO=4&transport=websocket&sid={session.sid}"
    assert server.classify("GET", ws_query, websocket=True).kind is RequestKind.UPGRADE
    session.take_wakeup()
    session.send_message("x")
    assert session.take_wakeup()
    with pytest.raises(PayloadTooLarge):
        server.check_content_length(101)
    server.check_content_length(100)
    server.check_content_length(None)


def test_reap_and_deadlines() -> None:
    server = EngineServer(EngineConfig(ping_interval=10, ping_timeout=5))
    a = server.open(Transport.POLLING, 0.0)
    b = server.open(Transport.WEBSOCKET, 3.0)
    assert a.sid != b.sid
    assert server.next_deadline() == 10.0
    b.websocket_closed(4.0)
    assert server.reap(4.0) == [b]
    assert server.get(b.sid) is None and len(server) == 1
    a.close(4.0)  # close packet still queued: lingers
    assert server.reap(5.0) == []
    assert server.reap(9.0) == [a]


def test_ids_are_random_and_url_safe() -> None:
    ids = {new_session_id() for _ in range(100)}
    assert len(ids) == 100
    assert all(len(i) == 20 and parse_query(f"sid={i}")["sid"] == i for i in ids)


def test_all_errors_are_client_errors() -> None:
    with pytest.raises(ClientError):
        EngineServer().classify("GET", "EIO=4&transport=x", websocket=False)
