"""Streamed response bodies (``Response.stream``) through both shells: the h11 connection over an
in-memory stream, and the ASGI adapter against a scripted server. Chunks go out as they are
produced, without ``Content-Length``; the generator is closed when the peer leaves; a bug in it
ends only that response, its body cut short."""

from __future__ import annotations

from collections.abc import AsyncGenerator

import h11
import trio
import trio.testing

from balto.core.asgi import AsgiAdapter
from balto.core.config import HttpConfig
from balto.core.http.connection import HttpConnection, WebSocketHandler
from balto.core.http.messages import Request, Response
from balto.core.lifecycle import Lifecycle
from tests.core.asgi.test_adapter import Peer, boundary, http_scope

WAIT_S = 5


class StreamApp:
    """``/ticks`` streams "a", "b" then waits for ``release`` and sends "c"; ``/bug`` streams
    one chunk and then raises; ``/forever`` streams one chunk and then waits forever."""

    def __init__(self) -> None:
        self.release = trio.Event()
        self.closed = trio.Event()

    async def handle_http(self, request: Request) -> Response:
        return Response(
            200,
            content_type="text/event-stream",
            headers=(("Cache-Control", "no-store"),),
            stream=self._body(request.path),
        )

    def websocket_handler(self, request: Request) -> WebSocketHandler | None:
        return None

    async def _body(self, path: str) -> AsyncGenerator[bytes, None]:
        try:
            yield b"a"
            if path == "/bug":
                raise RuntimeError("injected bug in a stream")
            if path == "/forever":
                await trio.sleep_forever()
            yield b""  # nothing to send: skipped, not an end of body
            yield b"b"
            await self.release.wait()
            yield b"c"
        finally:
            self.closed.set()


class Client:
    def __init__(self, stream: trio.abc.Stream) -> None:
        self.stream = stream
        self.conn = h11.Connection(h11.CLIENT)

    async def get(self, path: str) -> h11.Response:
        request = h11.Request(method="GET", target=path, headers=[("host", "balto")])
        await self.stream.send_all(self.conn.send(request) + self.conn.send(h11.EndOfMessage()))
        event = await self.next_event()
        assert isinstance(event, h11.Response)
        return event

    async def next_event(self) -> h11.Event:
        with trio.fail_after(WAIT_S):
            while True:
                event = self.conn.next_event()
                if event is not h11.NEED_DATA:
                    return event  # type: ignore[return-value]
                self.conn.receive_data(await self.stream.receive_some(65536))


async def test_h11_sends_each_chunk_as_it_comes_chunked() -> None:
    app = StreamApp()
    client_stream, server_stream = trio.testing.memory_stream_pair()
    connection = HttpConnection(server_stream, app, HttpConfig(), Lifecycle(), "test")
    async with trio.open_nursery() as nursery:
        nursery.start_soon(connection.run)
        client = Client(client_stream)
        head = await client.get("/ticks")
        headers = dict(head.headers)
        assert head.status_code == 200 and b"content-length" not in headers
        assert headers[b"transfer-encoding"] == b"chunked"
        assert headers[b"cache-control"] == b"no-store"
        assert bytes((await client.next_event()).data) == b"a"  # type: ignore[attr-defined]
        assert bytes((await client.next_event()).data) == b"b"  # type: ignore[attr-defined]
        app.release.set()
        assert bytes((await client.next_event()).data) == b"c"  # type: ignore[attr-defined]
        assert isinstance(await client.next_event(), h11.EndOfMessage)
        await client_stream.aclose()
    assert app.closed.is_set()


async def test_h11_closes_the_generator_when_the_peer_leaves() -> None:
    app = StreamApp()
    client_stream, server_stream = trio.testing.memory_stream_pair()
    connection = HttpConnection(server_stream, app, HttpConfig(), Lifecycle(), "test")
    async with trio.open_nursery() as nursery:
        nursery.start_soon(connection.run)
        client = Client(client_stream)
        await client.get("/ticks")
        await client.next_event()
        await client_stream.aclose()
        app.release.set()  # the next chunk finds the peer gone
        with trio.fail_after(WAIT_S):
            await app.closed.wait()


async def test_h11_a_peer_that_stops_reading_is_closed_after_the_send_timeout(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """Lockstep: a chunk is sent only when the peer reads it. The client reads the head and
    then nothing: the stream's next chunk waits STREAM_SEND_TIMEOUT_S, then the connection
    and the generator end (a live feed nobody reads must not be held forever)."""
    app = StreamApp()
    client_stream, server_stream = trio.testing.lockstep_stream_pair()
    config = HttpConfig(stream_send_timeout_s=7.0)
    connection = HttpConnection(server_stream, app, config, Lifecycle(), "test")
    async with trio.open_nursery() as nursery:
        nursery.start_soon(connection.run)
        client = Client(client_stream)
        request = h11.Request(method="GET", target="/forever", headers=[("host", "balto")])
        await client_stream.send_all(
            client.conn.send(request) + client.conn.send(h11.EndOfMessage())
        )
        client.conn.receive_data(await client_stream.receive_some(65536))
        assert isinstance(client.conn.next_event(), h11.Response)
        started = trio.current_time()
        with trio.fail_after(60):  # virtual seconds: without the timeout it never closes
            await app.closed.wait()
        assert trio.current_time() - started >= 7.0
        await client_stream.aclose()


async def test_h11_a_bug_in_the_stream_cuts_the_body_and_is_counted() -> None:
    app = StreamApp()
    guard, counter = boundary()
    client_stream, server_stream = trio.testing.memory_stream_pair()
    connection = HttpConnection(
        server_stream, app, HttpConfig(), Lifecycle(), "test", boundary=guard
    )
    async with trio.open_nursery() as nursery:
        nursery.start_soon(connection.run)
        client = Client(client_stream)
        await client.get("/bug")
        assert bytes((await client.next_event()).data) == b"a"  # type: ignore[attr-defined]
        try:
            event = await client.next_event()
        except h11.RemoteProtocolError:  # closed inside a chunked body: incomplete
            event = None
        assert not isinstance(event, h11.EndOfMessage)
    assert counter.labels("http_stream")._value.get() == 1
    assert app.closed.is_set()


async def test_asgi_streams_chunks_with_more_body() -> None:
    app, peer = StreamApp(), Peer()
    adapter = AsgiAdapter(app, HttpConfig())
    await peer.to_app.send({"type": "http.request", "body": b"", "more_body": False})
    async with trio.open_nursery() as nursery:
        nursery.start_soon(
            adapter, http_scope("/ticks", method="GET", headers=[]), peer.receive, peer.send
        )
        start = await peer.next_sent()
        assert start["status"] == 200
        assert b"content-length" not in dict(start["headers"])
        assert (await peer.next_sent())["body"] == b"a"
        second = await peer.next_sent()
        assert second == {"type": "http.response.body", "body": b"b", "more_body": True}
        app.release.set()
        assert (await peer.next_sent())["body"] == b"c"
        assert (await peer.next_sent())["more_body"] is False
    assert app.closed.is_set()


async def test_asgi_disconnect_closes_the_generator() -> None:
    app, peer = StreamApp(), Peer()
    adapter = AsgiAdapter(app, HttpConfig())
    await peer.to_app.send({"type": "http.request", "body": b"", "more_body": False})
    async with trio.open_nursery() as nursery:
        nursery.start_soon(
            adapter, http_scope("/forever", method="GET", headers=[]), peer.receive, peer.send
        )
        await peer.next_sent()
        await peer.next_sent()
        await peer.to_app.send({"type": "http.disconnect"})
    assert app.closed.is_set() and len(adapter.caps) == 0


async def test_asgi_a_bug_in_the_stream_leaves_the_body_unfinished() -> None:
    app, peer = StreamApp(), Peer()
    guard, counter = boundary()
    adapter = AsgiAdapter(app, HttpConfig(), boundary=guard)
    await peer.to_app.send({"type": "http.request", "body": b"", "more_body": False})
    with trio.fail_after(WAIT_S):
        await adapter(http_scope("/bug", method="GET", headers=[]), peer.receive, peer.send)
    sent = [peer.from_app.receive_nowait() for _ in range(2)]
    assert sent[1]["body"] == b"a" and sent[1]["more_body"] is True
    try:
        extra = peer.from_app.receive_nowait()
    except trio.WouldBlock:
        extra = None
    assert extra is None  # no final, empty body: the response is not complete
    assert counter.labels("http_stream")._value.get() == 1
