"""The adapter against a scripted ASGI server (memory channels), for the paths hypercorn does not
reach on its own: our own message cap, disconnects, OSError on send, deadlines, the lifespan."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
import trio
import trio.testing
from prometheus_client import CollectorRegistry, Counter
from trio_websocket import ConnectionClosed

from balto.core.asgi import AsgiAdapter, AsgiWebSocket, LifespanApp, UnsupportedScope
from balto.core.asgi.types import Message, Received
from balto.core.config import ConfigError, HttpConfig
from balto.core.http.connection import WebSocketHandler
from balto.core.http.messages import Request, Response, json_response
from balto.core.http.upgrade import UpgradeRequest
from balto.core.isolation import Boundary
from balto.core.lifecycle import Lifecycle

WAIT_S = 5


class Peer:
    """The server side of one ASGI call: what it feeds the app, and what the app sent."""

    def __init__(self) -> None:
        self.to_app, self._inbox = trio.open_memory_channel[Received](16)
        self._outbox, self.from_app = trio.open_memory_channel[Message](16)

    async def receive(self) -> Received:
        return await self._inbox.receive()

    async def send(self, message: Message) -> None:
        await self._outbox.send(message)

    async def next_sent(self) -> Message:
        with trio.fail_after(WAIT_S):
            return await self.from_app.receive()


class ProbeApp:
    """An HttpApp: ``/echo`` answers the request back, ``/slow`` never answers; the ``/echo``
    WebSocket echoes until closed, ``/mute`` returns without answering the handshake."""

    def __init__(self) -> None:
        self.cancelled = trio.Event()
        self.closed: ConnectionClosed | None = None
        self.done = trio.Event()

    async def handle_http(self, request: Request) -> Response:
        if request.path == "/bug":
            raise RuntimeError("injected bug")
        if request.path == "/slow":
            try:
                await trio.sleep_forever()
            finally:
                self.cancelled.set()
        return json_response(
            200,
            {
                "target": request.target,
                "body": request.body.decode(),
                "headers": request.headers,
                "scheme": request.scheme,
            },
            headers=(("X-Probe", "sim"),),
        )

    def websocket_handler(self, request: Request) -> WebSocketHandler | None:
        if request.path == "/echo":
            return self._echo
        if request.path == "/mute":
            return self._mute
        if request.path == "/bug":
            return self._bug
        return None

    async def _bug(self, upgrade: UpgradeRequest) -> None:
        await upgrade.accept()
        raise RuntimeError("injected bug in a WebSocket handler")

    async def _echo(self, upgrade: UpgradeRequest) -> None:
        ws = await upgrade.accept()
        try:
            while True:
                await ws.send_message(await ws.get_message())
        except ConnectionClosed as closed:
            self.closed = closed
        finally:
            self.done.set()

    async def _mute(self, upgrade: UpgradeRequest) -> None:
        await trio.lowlevel.checkpoint()


def http_scope(path: str = "/echo", **extra: Any) -> dict[str, Any]:
    raw, _, query = path.partition("?")
    return {
        "type": "http",
        "method": "POST",
        "scheme": "https",
        "path": raw,
        "raw_path": raw.encode(),
        "query_string": query.encode(),
        "headers": [(b"Content-Type", b"text/plain")],
        "client": ("10.0.0.7", 5555),
        **extra,
    }


def ws_scope(path: str = "/echo", *, extension: bool = True) -> dict[str, Any]:
    return {
        "type": "websocket",
        "scheme": "wss",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "headers": [(b"host", b"balto")],
        "client": ("10.0.0.7", 5555),
        "extensions": {"websocket.http.response": {}} if extension else {},
    }


async def test_http_request_and_response_shape() -> None:
    peer, app = Peer(), ProbeApp()
    adapter = AsgiAdapter(app, HttpConfig())
    await peer.to_app.send({"type": "http.request", "body": b"ol", "more_body": True})
    await peer.to_app.send({"type": "http.request", "body": "á".encode(), "more_body": False})
    with trio.fail_after(WAIT_S):
        await adapter(http_scope("/echo?x=1"), peer.receive, peer.send)
    start, body = await peer.next_sent(), await peer.next_sent()
    assert start["status"] == 200 and (b"x-probe", b"sim") in start["headers"]
    seen = json.loads(body["body"])
    assert seen["target"] == "/echo?x=1" and seen["body"] == "olá"
    headers = [tuple(pair) for pair in seen["headers"]]
    assert ("content-type", "text/plain") in headers  # names lower-cased
    assert seen["scheme"] == "https"  # the scheme the client used


async def test_streamed_body_over_the_cap_is_413() -> None:
    peer = Peer()
    adapter = AsgiAdapter(ProbeApp(), HttpConfig(max_body_bytes=8))
    for chunk in (b"12345", b"67890"):
        await peer.to_app.send({"type": "http.request", "body": chunk, "more_body": True})
    with trio.fail_after(WAIT_S):
        await adapter(http_scope(), peer.receive, peer.send)
    assert (await peer.next_sent())["status"] == 413


async def test_slow_body_is_408(autojump_clock: trio.abc.Clock) -> None:
    peer = Peer()
    adapter = AsgiAdapter(ProbeApp(), HttpConfig(request_timeout_s=2))
    await peer.to_app.send({"type": "http.request", "body": b"1", "more_body": True})
    await adapter(http_scope(), peer.receive, peer.send)
    start, body = await peer.next_sent(), await peer.next_sent()
    assert start["status"] == 408 and "Tempo esgotado" in json.loads(body["body"])["error"]


async def test_disconnect_cancels_the_handler_and_sends_nothing() -> None:
    peer, app = Peer(), ProbeApp()
    adapter = AsgiAdapter(app, HttpConfig())
    await peer.to_app.send({"type": "http.request", "body": b"", "more_body": False})
    async with trio.open_nursery() as nursery:
        nursery.start_soon(adapter, http_scope("/slow"), peer.receive, peer.send)
        await trio.testing.wait_all_tasks_blocked()
        await peer.to_app.send({"type": "http.disconnect"})
        with trio.fail_after(WAIT_S):
            await app.cancelled.wait()
    with pytest.raises(trio.WouldBlock):
        peer.from_app.receive_nowait()


async def test_websocket_message_over_our_cap_closes_1009() -> None:
    peer, app = Peer(), ProbeApp()
    adapter = AsgiAdapter(app, HttpConfig(ws_max_message_bytes=4))
    await peer.to_app.send({"type": "websocket.connect"})
    async with trio.open_nursery() as nursery:
        nursery.start_soon(adapter, ws_scope(), peer.receive, peer.send)
        assert (await peer.next_sent())["type"] == "websocket.accept"
        await peer.to_app.send({"type": "websocket.receive", "text": "ok"})
        assert (await peer.next_sent()) == {"type": "websocket.send", "text": "ok"}
        await peer.to_app.send({"type": "websocket.receive", "bytes": b"grande"})
        close = await peer.next_sent()
        assert close["type"] == "websocket.close" and close["code"] == 1009
        await peer.to_app.send({"type": "websocket.disconnect", "code": 1009})
    assert app.closed is not None and app.closed.reason is not None
    assert app.closed.reason.code == 1009 and "limite" in (app.closed.reason.reason or "")


async def test_peer_disconnect_reaches_the_handler_as_connection_closed() -> None:
    peer, app = Peer(), ProbeApp()
    adapter = AsgiAdapter(app, HttpConfig())
    await peer.to_app.send({"type": "websocket.connect"})
    async with trio.open_nursery() as nursery:
        nursery.start_soon(adapter, ws_scope(), peer.receive, peer.send)
        assert (await peer.next_sent())["type"] == "websocket.accept"
        await peer.to_app.send({"type": "websocket.disconnect", "code": 1001, "reason": "tchau"})
    assert app.closed is not None and app.closed.reason is not None
    assert (app.closed.reason.code, app.closed.reason.reason) == (1001, "tchau")
    assert adapter.websockets == 0 and len(adapter.caps) == 0


@pytest.mark.parametrize(
    ("path", "extension", "expected"),
    [
        ("/nada", True, "websocket.http.response.start"),  # 404 with a JSON body
        ("/nada", False, "websocket.close"),  # no extension: the server answers 403
        ("/mute", True, "websocket.http.response.start"),  # handler never answered: 403
    ],
)
async def test_unserved_handshakes_are_refused(path: str, extension: bool, expected: str) -> None:
    peer = Peer()
    adapter = AsgiAdapter(ProbeApp(), HttpConfig())
    await peer.to_app.send({"type": "websocket.connect"})
    with trio.fail_after(WAIT_S):
        await adapter(ws_scope(path, extension=extension), peer.receive, peer.send)
    first = await peer.next_sent()
    assert first["type"] == expected
    if expected == "websocket.http.response.start":
        assert first["status"] == (404 if path == "/nada" else 403)


def boundary() -> tuple[Boundary, Counter]:
    counter = Counter("crashes", "test", ["boundary"], registry=CollectorRegistry())
    return Boundary(counter), counter


async def test_a_bug_in_the_app_is_a_500_counted_at_the_boundary() -> None:
    peer = Peer()
    guard, counter = boundary()
    adapter = AsgiAdapter(ProbeApp(), HttpConfig(), boundary=guard)
    await peer.to_app.send({"type": "http.request", "body": b"", "more_body": False})
    with trio.fail_after(WAIT_S):
        await adapter(http_scope("/bug"), peer.receive, peer.send)
    start, body = await peer.next_sent(), await peer.next_sent()
    assert start["status"] == 500
    assert json.loads(body["body"]) == {"error": "Erro interno do servidor"}
    assert counter.labels("http_request")._value.get() == 1


async def test_a_bug_in_a_websocket_handler_closes_it_1011() -> None:
    peer = Peer()
    guard, counter = boundary()
    adapter = AsgiAdapter(ProbeApp(), HttpConfig(), boundary=guard)
    await peer.to_app.send({"type": "websocket.connect"})
    async with trio.open_nursery() as nursery:
        nursery.start_soon(adapter, ws_scope("/bug"), peer.receive, peer.send)
        assert (await peer.next_sent())["type"] == "websocket.accept"
        close = await peer.next_sent()
        assert close["type"] == "websocket.close" and close["code"] == 1011
        await peer.to_app.send({"type": "websocket.disconnect", "code": 1011})
    assert counter.labels("websocket")._value.get() == 1
    assert adapter.websockets == 0 and len(adapter.caps) == 0


async def test_connection_shim_send_ping_and_close() -> None:
    peer = Peer()
    ws = AsgiWebSocket(peer.receive, peer.send, max_message_bytes=1024)
    async with trio.open_nursery() as nursery:
        nursery.start_soon(ws.pump)
        with trio.fail_after(WAIT_S):
            await ws.ping()  # ASGI has no ping: returns at once
        await ws.send_message(b"\x00\x01")
        assert await peer.next_sent() == {"type": "websocket.send", "bytes": b"\x00\x01"}
        nursery.start_soon(ws.aclose, 4000, "fim")
        assert await peer.next_sent() == {"type": "websocket.close", "code": 4000, "reason": "fim"}
        await peer.to_app.send({"type": "websocket.disconnect", "code": 1000})
    for operation in (ws.get_message(), ws.send_message("x"), ws.ping()):
        with pytest.raises(ConnectionClosed) as closed:
            await operation
        assert closed.value.reason is not None and closed.value.reason.code == 4000


async def test_send_on_a_gone_connection_is_connection_closed() -> None:
    async def receive() -> Received:
        await trio.sleep_forever()
        raise AssertionError("unreachable")

    async def send(message: Message) -> None:
        raise OSError("conexão perdida")

    ws = AsgiWebSocket(receive, send, max_message_bytes=1024)
    with pytest.raises(ConnectionClosed) as closed:
        await ws.send_message("oi")
    assert closed.value.reason is not None and closed.value.reason.code == 1006


async def test_unknown_scope_type_raises() -> None:
    peer = Peer()
    with pytest.raises(UnsupportedScope):
        await AsgiAdapter(ProbeApp(), HttpConfig())(
            {"type": "webtransport"}, peer.receive, peer.send
        )


# -- LifespanApp --------------------------------------------------------------------------


async def test_lifespan_startup_failure_reports_the_message() -> None:
    @asynccontextmanager
    async def broken(lifecycle: Lifecycle) -> AsyncIterator[AsgiAdapter]:
        if not lifecycle.stopping.is_set():
            raise ConfigError("PORT fora do intervalo: 70000")
        yield AsgiAdapter(ProbeApp(), HttpConfig())

    peer = Peer()
    await peer.to_app.send({"type": "lifespan.startup"})
    with trio.fail_after(WAIT_S):
        await LifespanApp(broken)({"type": "lifespan"}, peer.receive, peer.send)
    assert await peer.next_sent() == {
        "type": "lifespan.startup.failed",
        "message": "PORT fora do intervalo: 70000",
    }


async def test_lifespan_serves_between_startup_and_shutdown() -> None:
    entered = exited = False

    @asynccontextmanager
    async def opener(lifecycle: Lifecycle) -> AsyncIterator[AsgiAdapter]:
        nonlocal entered, exited
        entered = True
        yield AsgiAdapter(ProbeApp(), HttpConfig())
        exited = lifecycle.stopping.is_set()

    app = LifespanApp(opener)
    early = Peer()
    await early.to_app.send({"type": "http.request", "body": b"", "more_body": False})
    await app(http_scope(), early.receive, early.send)
    assert (await early.next_sent())["status"] == 503  # not started yet
    life = Peer()
    await life.to_app.send({"type": "lifespan.startup"})
    async with trio.open_nursery() as nursery:
        nursery.start_soon(app, {"type": "lifespan"}, life.receive, life.send)
        assert await life.next_sent() == {"type": "lifespan.startup.complete"}
        assert entered and app.adapter is not None
        await life.to_app.send({"type": "lifespan.shutdown"})
        assert await life.next_sent() == {"type": "lifespan.shutdown.complete"}
    assert exited and app.adapter is None
