"""The Trio shell around h11: one task per TCP connection.

It reads requests (keep-alive, pipelining, ``Expect: 100-continue``), enforces the header and
body caps and the slow-client deadlines, and hands each request to the app. A GET with
``Upgrade: websocket`` leaves h11 behind: the bytes already read are replayed into
trio-websocket's server handshake.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from contextlib import aclosing
from functools import partial
from typing import Protocol

import h11
import trio
import trio_websocket

from balto import __version__
from balto.core.config import HttpConfig
from balto.core.errors import BadRequest, BaltoError, ClientError, PayloadTooLarge
from balto.core.forwarded import client_address
from balto.core.http.messages import (
    INTERNAL_ERROR,
    BodyLimit,
    BodyStream,
    Request,
    Response,
    error_response,
    json_response,
    refusal_response,
)
from balto.core.http.router import guarded_answer
from balto.core.http.upgrade import (
    ReplayStream,
    UpgradeRequest,
    WebSocketUpgrade,
    close_try_again_later,
)
from balto.core.isolation import Boundary
from balto.core.lifecycle import Lifecycle
from balto.core.limits import Refusal

log = logging.getLogger(__name__)

INTERNAL_ERROR_CLOSE = 1011  # RFC 6455 §7.4.1: the server hit an unexpected condition
RECEIVE_BYTES = 16 * 1024
LINGER_S = 2.0
LINGER_BYTES = 8 * 1024 * 1024
SERVER_HEADER = f"balto/{__version__}".encode()

WebSocketHandler = Callable[[WebSocketUpgrade], Awaitable[None]]


class HttpApp(Protocol):
    async def handle_http(self, request: Request) -> Response: ...

    def websocket_handler(self, request: Request) -> WebSocketHandler | None:
        """The handler for an upgrade request, or None when the path takes no WebSocket."""
        ...


_Incoming = tuple[h11.Request, Request]


class _Closed(Exception):
    """The peer went away, or the connection must end without a response."""


class HttpConnection:
    def __init__(
        self,
        stream: trio.abc.Stream,
        app: HttpApp,
        config: HttpConfig,
        lifecycle: Lifecycle,
        client: str,
        refusal: Refusal | None = None,
        boundary: Boundary | None = None,
        received: bytes = b"",
    ) -> None:
        self._refusal = refusal
        self._boundary = boundary or Boundary()
        self._stream = stream
        self._app = app
        self._config = config
        self._lifecycle = lifecycle
        self._peer = client  # the TCP peer
        self._client = client  # who the last request came from (behind a trusted proxy)
        self._conn = h11.Connection(h11.SERVER, max_incomplete_event_size=config.max_header_bytes)
        if received:  # read before us (what followed a PROXY protocol header)
            self._conn.receive_data(received)

    async def run(self) -> None:
        try:
            while await self._serve_one():
                self._conn.start_next_cycle()
        except (_Closed, trio.BrokenResourceError, trio.ClosedResourceError):
            pass
        finally:
            with trio.move_on_after(1) as cleanup:
                cleanup.shield = True
                await self._stream.aclose()

    async def _serve_one(self) -> bool:
        """Serve one request; True when the connection may carry another."""
        if not self._conn.trailing_data[0]:
            with self._lifecycle.idle(self._config.keepalive_timeout_s):
                await self._receive()
            if self._conn.trailing_data == (b"", False):
                return False  # idle timeout or shutdown: close quietly
        # Only reading the request is under the deadline (slow clients); handling is not, so
        # long-polls and WebSocket sessions may last as long as they need.
        incoming: _Incoming | None = None
        with trio.move_on_after(self._config.request_timeout_s):
            incoming = await self._read_request()
            if incoming is None:
                return False
        if incoming is None:
            await self._send_error(BaltoError("Tempo esgotado aguardando a requisição"), status=408)
            return False
        event, request = incoming
        if self._refusal is not None:
            await self._refuse(event, request, self._refusal)
            return False
        if _is_upgrade(request):
            await self._upgrade(event, request)
            return False
        response = await self._handle(request)
        await self._send_response(response, head=event.method == b"HEAD")
        return self._conn.our_state is h11.DONE and self._conn.their_state is h11.DONE

    async def _handle(self, request: Request) -> Response:
        """The app's answer; a bug in the app is that request's 500, logged and counted."""
        return await guarded_answer(self._app.handle_http, request, self._boundary, "http_request")

    async def _read_request(self) -> _Incoming | None:
        """The next request with its body; None when the connection must end (answered)."""
        try:
            event = await self._next_event()
            if isinstance(event, h11.ConnectionClosed):
                return None
            assert isinstance(event, h11.Request)
            head = self._to_request(event, b"")
            header_bytes = len(event.target) + sum(len(k) + len(v) + 4 for k, v in event.headers)
            if header_bytes > self._config.max_header_bytes:
                # h11 bounds only incomplete heads; a head that arrived whole is checked here.
                await self._send_error(ClientError("Cabeçalhos grandes demais"), status=431)
                return None
            if _has(event, b"content-length") and _has(event, b"transfer-encoding"):
                # RFC 9112 §6.1: such a request "ought to be handled as an error", and the
                # connection MUST close after it: a proxy in front may have framed it the other
                # way (request smuggling).
                await self._send_error(
                    BadRequest("Content-Length e Transfer-Encoding juntos não são aceitos"),
                    status=400,
                )
                return None
            if _is_upgrade(head):
                return event, head
            return event, self._to_request(event, await self._read_body(event))
        except h11.RemoteProtocolError as exc:
            await self._send_error(
                BadRequest("Requisição HTTP malformada"), status=exc.error_status_hint
            )
        except PayloadTooLarge as exc:
            await self._send_response(error_response(exc), close=True)
            await self._linger()
        return None

    async def _linger(self) -> None:
        """Discard what the peer is still sending for a moment before closing, so that it
        reads our early answer (413) instead of a connection reset."""
        with trio.move_on_after(LINGER_S):
            for _ in range(LINGER_BYTES // RECEIVE_BYTES):
                if not await self._stream.receive_some(RECEIVE_BYTES):
                    break

    async def _read_body(self, request: h11.Request) -> bytes:
        limit = BodyLimit(self._config.max_body_bytes, _content_length(request))
        if self._conn.they_are_waiting_for_100_continue:
            await self._send(h11.InformationalResponse(status_code=100, headers=[]))
        chunks: list[bytes] = []
        while True:
            event = await self._next_event()
            if isinstance(event, h11.EndOfMessage):
                return b"".join(chunks)
            if isinstance(event, h11.ConnectionClosed):
                raise _Closed
            assert isinstance(event, h11.Data)
            limit.add(len(event.data))
            chunks.append(bytes(event.data))

    async def _refuse(self, event: h11.Request, request: Request, refusal: Refusal) -> None:
        """Over the connection caps: 503 for HTTP; a WebSocket is accepted and closed 1013."""
        if _is_upgrade(request):
            await self._upgrade(event, request, partial(close_try_again_later, refusal=refusal))
            return
        await self._send_response(refusal_response(refusal.reason), close=True)

    async def _upgrade(
        self, event: h11.Request, request: Request, handler: WebSocketHandler | None = None
    ) -> None:
        handler = handler or self._app.websocket_handler(request)
        if handler is None:
            await self._send_response(
                json_response(404, {"error": f"Nenhum WebSocket em {request.path}"}), close=True
            )
            return
        head = b"%s %s HTTP/1.1\r\n" % (event.method, event.target)
        head += b"".join(b"%s: %s\r\n" % (k, v) for k, v in event.headers.raw_items())
        replay = ReplayStream(head + b"\r\n", self._conn.trailing_data[0], self._stream)
        async with trio.open_nursery() as nursery:
            ws_request = await trio_websocket.wrap_server_stream(
                nursery, replay, max_message_size=self._config.ws_max_message_bytes
            )
            upgrade = UpgradeRequest(ws_request, replay)
            with self._boundary.guard("websocket", self._client) as guard:
                await handler(upgrade)
            await _finish_websocket(upgrade, replay, crashed=guard.crashed is not None)
            nursery.cancel_scope.cancel()

    def _to_request(self, event: h11.Request, body: bytes) -> Request:
        headers = tuple(
            (name.decode("latin-1"), value.decode("latin-1")) for name, value in event.headers
        )
        # The TCP peer, or the client behind it when the peer is a trusted proxy.
        self._client = client_address(self._peer, headers, self._config.trusted_proxies)
        return Request(
            method=event.method.decode("ascii"),
            target=event.target.decode("latin-1"),
            headers=headers,
            body=body,
            client=self._client,
        )

    async def _next_event(self) -> h11.Event | type[h11.PAUSED]:
        while True:
            event = self._conn.next_event()
            if event is h11.NEED_DATA:
                await self._receive()
                continue
            return event  # type: ignore[return-value]

    async def _receive(self) -> None:
        data = await self._stream.receive_some(RECEIVE_BYTES)
        self._conn.receive_data(bytes(data))

    async def _send_error(self, error: BaltoError, *, status: int) -> None:
        if self._conn.our_state not in (h11.IDLE, h11.SEND_RESPONSE):
            return
        response = error_response(error)
        await self._send_response(
            Response(status=status, body=response.body, headers=response.headers), close=True
        )

    async def _send_response(
        self, response: Response, *, close: bool = False, head: bool = False
    ) -> None:
        headers = [(b"content-type", response.content_type.encode())]
        if response.stream is None:
            headers.append((b"content-length", str(len(response.body)).encode()))
        headers += [(b"server", SERVER_HEADER), (b"date", _http_date())]
        headers += [(k.encode("latin-1"), v.encode("latin-1")) for k, v in response.headers]
        if close or self._lifecycle.stopping.is_set():
            headers.append((b"connection", b"close"))
        try:
            await self._send(h11.Response(status_code=response.status, headers=headers))
            if response.stream is not None:
                await self._send_stream(response.stream, head=head)
            elif response.body and not head:
                await self._send(h11.Data(data=response.body))
            await self._send(h11.EndOfMessage())
        except h11.LocalProtocolError as exc:
            log.warning("could not send response: %s", exc)
            raise _Closed from exc

    async def _send_stream(self, stream: BodyStream, *, head: bool) -> None:
        """Each chunk as it comes; the generator is closed however this ends (the peer gone,
        a HEAD). A bug in it ends only this response: logged, and the connection closed
        without the final chunk, so the client sees the body cut short, not complete. A peer
        that stops reading (a chunk not taken within ``STREAM_SEND_TIMEOUT_S``) is closed too:
        a live feed must not hold a connection and its buffer forever for nobody."""
        async with aclosing(stream):
            if head:
                return
            while True:
                chunk: bytes | None = None
                with self._boundary.guard("http_stream", self._client) as guard:
                    chunk = await anext(stream, None)
                if guard.crashed is not None:
                    raise _Closed
                if chunk is None:
                    return
                if chunk:  # an empty Data would end a chunked body early
                    with trio.move_on_after(self._config.stream_send_timeout_s) as sending:
                        await self._send(h11.Data(data=chunk))
                    if sending.cancelled_caught:
                        log.info("%s: streamed body not read in time: closed", self._client)
                        raise _Closed

    async def _send(self, event: h11.Event) -> None:
        data = self._conn.send(event)
        if data:
            await self._stream.send_all(data)


async def _finish_websocket(
    upgrade: UpgradeRequest, replay: ReplayStream, *, crashed: bool
) -> None:
    """The handler is done: the socket is ours to close. Normally 1000; after a crash 1011
    (or a 500 instead of the handshake); after a protocol error, the frame trio-websocket
    left out (:meth:`ReplayStream.send_protocol_error_close`)."""
    ws = upgrade.connection
    with trio.CancelScope(shield=True), trio.move_on_after(1):
        try:
            if ws is None:
                if crashed and not upgrade.answered:
                    body = json_response(500, {"error": INTERNAL_ERROR}).body
                    await upgrade.reject(500, body=body)
            elif ws.closed is None:
                await ws.aclose(
                    INTERNAL_ERROR_CLOSE if crashed else 1000, INTERNAL_ERROR if crashed else None
                )
            else:
                # Also sent when trio-websocket closes the stream; whichever comes first
                # sends it (the handler may end before its reader task gets there).
                await replay.send_protocol_error_close()
        except (
            trio_websocket.ConnectionClosed,
            trio.BrokenResourceError,
            trio.ClosedResourceError,
            trio.BusyResourceError,
        ):
            pass  # the peer is gone, or still owed a send that never ends: nothing to tell it


def _has(event: h11.Request, name: bytes) -> bool:
    return any(key == name for key, _ in event.headers)


def _is_upgrade(request: Request) -> bool:
    upgrade = (request.header("upgrade") or "").lower()
    return request.method == "GET" and "websocket" in upgrade


def _content_length(request: h11.Request) -> int | None:
    for name, value in request.headers:
        if name == b"content-length":
            return int(value)  # h11 has validated it
    return None


def _http_date() -> bytes:
    return time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime()).encode()


async def serve_connection(
    stream: trio.abc.Stream,
    app: HttpApp,
    config: HttpConfig,
    lifecycle: Lifecycle,
    client: str,
    *,
    refusal: Refusal | None = None,
    boundary: Boundary | None = None,
    received: bytes = b"",
) -> None:
    connection = HttpConnection(
        stream, app, config, lifecycle, client, refusal, boundary, received=received
    )
    await connection.run()
