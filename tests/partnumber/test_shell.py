"""The Trio shell: wakeups, raw WebSocket sessions, rejections and graceful shutdown."""

from __future__ import annotations

import json

import pytest
import trio
import trio.testing
import trio_websocket

from balto.core.http.messages import Request
from balto.partnumber.app import PartnumberApp
from balto.socketio import CorsConfig, EngineConfig
from balto.socketio.shell import SocketIOShell
from balto.socketio.wakeups import Wakeups
from tests.helpers import http
from tests.partnumber.conftest import PartnumberServer, start_partnumber
from tests.partnumber.doubles import ScriptedClassifier
from tests.partnumber.eio_client import PollingClient

WS_PATH = "/socket.io/?EIO=4&transport=websocket"


async def test_wakeups_release_every_waiter_once() -> None:
    wakeups = Wakeups()
    woken: list[str] = []

    async def waiter(name: str) -> None:
        await wakeups.wait("s1")
        woken.append(name)

    with trio.fail_after(2):
        async with trio.open_nursery() as nursery:
            nursery.start_soon(waiter, "get")
            nursery.start_soon(waiter, "writer")
            await trio.testing.wait_all_tasks_blocked()
            wakeups.wake("other")  # another session: nobody moves
            await trio.testing.wait_all_tasks_blocked()
            assert woken == []
            wakeups.wake("s1")
    assert sorted(woken) == ["get", "writer"] and len(wakeups) == 0


async def test_cancelled_waiter_leaves_nothing_behind() -> None:
    wakeups = Wakeups()
    with trio.move_on_after(0.01):
        await wakeups.wait("s1")
    assert len(wakeups) == 0
    wakeups.wake("s1")  # no waiter: a no-op


async def test_raw_websocket_session(pn_server: PartnumberServer) -> None:
    url = f"ws://127.0.0.1:{pn_server.port}{WS_PATH}"
    with trio.fail_after(5):
        async with trio_websocket.open_websocket_url(url) as ws:
            opened = json.loads((await ws.get_message())[1:])
            assert opened["upgrades"] == [] and opened["maxPayload"] == 1_000_000
            await ws.send_message("40")
            connect = await ws.get_message()
            sid = json.loads(connect[2:])["sid"]
            assert json.loads((await ws.get_message())[2:]) == [
                "connected",
                {"socket_session_id": sid},
            ]
            await ws.send_message('42["message",{"texto":"eco"}]')
            assert await ws.get_message() == '42["message",{"texto":"eco"}]'
            await ws.send_message('421["join",{"room_id":"sala"}]')  # with an ack id
            assert await ws.get_message() == '431[{"status":"ok","room_id":"sala"}]'
            await ws.send_message("not an engine.io packet")
            assert await ws.get_message() == "1"  # protocol error: the server closes
            with pytest.raises(trio_websocket.ConnectionClosed):
                await ws.get_message()


@pytest.mark.parametrize(
    ("query", "status"),
    [
        ("EIO=3&transport=websocket", 400),
        ("EIO=4&transport=websocket&sid=desconhecido", 400),
        ("EIO=4&transport=polling", 400),
        ("EIO=4", 400),  # no transport: the reference's "Transport unknown"
    ],
)
async def test_websocket_rejections(pn_server: PartnumberServer, query: str, status: int) -> None:
    url = f"ws://127.0.0.1:{pn_server.port}/socket.io/?{query}"
    with trio.fail_after(5), pytest.raises(trio_websocket.ConnectionRejected) as info:
        async with trio_websocket.open_websocket_url(url):
            pass
    assert info.value.status_code == status


async def test_a_second_websocket_on_an_upgraded_sid_is_accepted_then_closed(
    pn_server: PartnumberServer,
) -> None:
    """The reference server accepts the handshake and closes the socket at once; the first
    WebSocket goes on untouched."""
    client = PollingClient(pn_server.port)
    await client.connect()
    url = f"ws://127.0.0.1:{pn_server.port}{WS_PATH}&sid={client.engine_sid}"
    with trio.fail_after(5):
        async with trio_websocket.open_websocket_url(url) as first:
            await first.send_message("2probe")
            assert await first.get_message() == "3probe"
            await first.send_message("5")
            async with trio_websocket.open_websocket_url(url) as second:
                with pytest.raises(trio_websocket.ConnectionClosed):
                    await second.get_message()
            await first.send_message('42["ping_event"]')
            assert await first.get_message() == '42["pong_event",{"message":"pong"}]'


async def test_no_websocket_elsewhere(pn_server: PartnumberServer) -> None:
    url = f"ws://127.0.0.1:{pn_server.port}/classify-partnumber"
    with trio.fail_after(5), pytest.raises(trio_websocket.ConnectionRejected) as info:
        async with trio_websocket.open_websocket_url(url):
            pass
    assert info.value.status_code == 404


async def test_shutdown_releases_parked_polls_and_closes_websockets(
    nursery: trio.Nursery,
) -> None:
    server = await start_partnumber(nursery, ScriptedClassifier())
    client = PollingClient(server.port)
    url = f"ws://127.0.0.1:{server.port}{WS_PATH}"
    outcome: list[str] = []

    async def parked_poll() -> None:
        try:
            await client.poll()  # parks: the server has nothing to say yet
        except ConnectionError:
            outcome.append("closed")

    with trio.fail_after(5):
        await client.connect()
        await client.until("connected")
        async with trio_websocket.open_websocket_url(url) as ws:
            await ws.get_message()  # open packet
            async with trio.open_nursery() as inner:
                inner.start_soon(parked_poll)
                await trio.testing.wait_all_tasks_blocked()
                server.lifecycle.stop()
            assert await ws.get_message() == "1"
    assert outcome == ["closed"]


async def test_ping_timeout_closes_silent_sessions(nursery: trio.Nursery) -> None:
    config = EngineConfig(ping_interval=0.05, ping_timeout=0.05)
    server = await start_partnumber(nursery, ScriptedClassifier(), engine_config=config)
    url = f"ws://127.0.0.1:{server.port}{WS_PATH}"
    with trio.fail_after(5):
        async with trio_websocket.open_websocket_url(url) as ws:
            await ws.get_message()
            assert await ws.get_message() == "2"  # ping; we never answer
            assert await ws.get_message() == "1"
            with pytest.raises(trio_websocket.ConnectionClosed):
                await ws.get_message()
        reply = await http(server.port, "GET", "/health")
        assert reply.json()["socketio_sessions"] == 0
    server.lifecycle.stop()


def _request(method: str, target: str, *headers: tuple[str, str]) -> Request:
    return Request(method, target, (("host", "localhost:5000"), *headers))


async def test_shell_answers_polling_and_capacity_directly() -> None:
    shell = SocketIOShell(max_sessions=1)
    opened = await shell.handle_http(_request("GET", "/socket.io/?EIO=4&transport=polling"))
    assert opened.status == 200 and opened.body.startswith(b"0{")
    assert opened.content_type == "text/plain; charset=UTF-8"
    assert opened.headers == ()  # CORS is the application's, applied once for every route
    full = await shell.handle_http(_request("GET", "/socket.io/?EIO=4&transport=polling"))
    assert full.status == 503 and "Limite de conexões" in json.loads(full.body)["error"]
    assert shell.handles("/socket.io/") and not shell.handles("/socket.io/x")


async def test_socketio_is_a_route_with_the_apps_cors() -> None:
    shell = SocketIOShell(max_sessions=1)
    app = PartnumberApp(ScriptedClassifier(), shell)
    opened = await app.handle_http(_request("GET", "/socket.io?EIO=4&transport=polling"))
    assert opened.status == 200 and opened.body.startswith(b"0{")
    preflight = await app.handle_http(
        _request(
            "OPTIONS",
            "/socket.io/?EIO=4&transport=polling",
            ("origin", "http://localhost:5000"),
            ("access-control-request-headers", "content-type"),
        )
    )
    assert preflight.status == 200
    assert ("Access-Control-Allow-Origin", "http://localhost:5000") in preflight.headers
    assert ("Access-Control-Allow-Headers", "content-type") in preflight.headers
    assert sum(1 for name, _ in preflight.headers if name == "Access-Control-Allow-Origin") == 1
    foreign = await app.handle_http(
        _request("GET", "/socket.io/?EIO=4&transport=polling", ("origin", "http://x.example"))
    )
    assert foreign.status == 403
    wrong = await app.handle_http(_request("PUT", "/socket.io/?EIO=4&transport=polling"))
    assert wrong.status == 400  # like the reference server (BAD_HANDSHAKE_METHOD)
    no_transport = await app.handle_http(_request("GET", "/socket.io/?EIO=4"))
    assert no_transport.status == 400


async def test_a_handler_bug_fails_that_call_only() -> None:
    shell = SocketIOShell()
    calls: list[str] = []

    def buggy(sid: str, *args: object) -> str:
        calls.append(sid)
        raise ZeroDivisionError("handler bug")

    shell.on("boom", buggy)
    shell.on("ok", lambda sid: "fine")
    opened = await shell.handle_http(_request("GET", "/socket.io/?EIO=4&transport=polling"))
    engine_sid = json.loads(opened.body[1:])["sid"]
    target = f"/socket.io/?EIO=4&transport=polling&sid={engine_sid}"

    async def post(body: bytes) -> int:
        request = Request("POST", target, (("host", "localhost:5000"),), body)
        return (await shell.handle_http(request)).status

    assert await post(b"40") == 200
    assert (await shell.handle_http(_request("GET", target))).body.startswith(b"40{")
    assert await post(b'421["boom"]\x1e422["ok"]') == 500
    assert len(calls) == 1
    assert 'balto_crashes_total{boundary="socketio_handler"} 1.0' in shell.metrics.render().decode()
    # the session lives on; the handler after the crash still ran and acked
    assert (await shell.handle_http(_request("GET", target))).body == b'432["fine"]'
    assert shell.session_count == 1


async def test_an_allow_list_keeps_same_origin_websockets_and_logs_refusals(
    nursery: trio.Nursery, caplog: pytest.LogCaptureFixture
) -> None:
    """``--cors-origin`` must not break python-socketio, whose WebSocket sends the server's
    own origin; a refused origin is a 403 with a line in the log."""
    server = await start_partnumber(
        nursery, ScriptedClassifier(), cors=CorsConfig(allowed_origins=["https://app.example"])
    )
    url = f"ws://127.0.0.1:{server.port}{WS_PATH}"
    own = [(b"Origin", f"http://127.0.0.1:{server.port}".encode())]
    with trio.fail_after(5):
        async with trio_websocket.open_websocket_url(url, extra_headers=own) as ws:
            assert str(await ws.get_message()).startswith("0{")
        with pytest.raises(trio_websocket.ConnectionRejected) as info:
            async with trio_websocket.open_websocket_url(
                url, extra_headers=[(b"Origin", b"http://evil.example")]
            ):
                pass
    assert info.value.status_code == 403
    assert "origem recusada" in caplog.text and "http://evil.example" in caplog.text
    server.lifecycle.stop()
