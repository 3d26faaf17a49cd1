"""``AsgiAdapter``: any :class:`~balto.core.http.connection.HttpApp` as an ASGI 3 application.

The same apps that run on Balto's own h11 shell run under an ASGI server (hypercorn, for TLS and
HTTP/2). What the shell does per connection, the adapter does per request:

* ``http``: the body is read under the same cap (413, early from ``Content-Length``) and
  deadline (408) as the shell; the request goes to ``handle_http``, which is cancelled if the
  peer disconnects first (a parked Socket.IO long-poll ends with its client);
* ``websocket``: ``websocket_handler`` picks the handler; none → 404 (403 where the server lacks
  the ``websocket.http.response`` extension); the handler gets an
  :class:`~balto.core.asgi.websocket.AsgiUpgrade` instead of trio-websocket's request;
* the connection caps count in-flight requests and open WebSockets per client address (the
  client behind a trusted proxy, :mod:`balto.core.forwarded`): 503 for HTTP, accept-and-close
  1013 for a WebSocket, as the shell answers;
* header names reach the app lower-cased; ``Request.scheme`` is ``https`` over TLS, so
  same-origin checks (Socket.IO CORS) see the scheme the browser used;
* ``lifespan`` is answered at once (nothing to start): wrap the adapter in
  :class:`~balto.core.asgi.lifespan.LifespanApp` to build the app in the lifespan.
"""

from __future__ import annotations

import logging
from contextlib import aclosing
from functools import partial

import trio

from balto.core.asgi.types import Receive, Scope, Send
from balto.core.asgi.websocket import AsgiUpgrade, HandshakeState, request_target
from balto.core.config import HttpConfig
from balto.core.errors import BadRequest, ClientError, ServerFault
from balto.core.forwarded import client_address
from balto.core.http.connection import INTERNAL_ERROR_CLOSE, HttpApp, WebSocketHandler
from balto.core.http.messages import (
    INTERNAL_ERROR,
    BodyLimit,
    Request,
    Response,
    error_response,
    json_response,
    refusal_response,
)
from balto.core.http.router import guarded_answer
from balto.core.http.upgrade import close_try_again_later
from balto.core.isolation import Boundary
from balto.core.limits import ConnectionCaps

__all__ = ["AsgiAdapter", "UnsupportedScope", "send_response"]

log = logging.getLogger(__name__)

CLOSE_TIMEOUT_S = 1.0  # closing a socket the handler left open
TLS_SCHEMES = frozenset({"https", "wss"})


class UnsupportedScope(ServerFault):
    """The server sent a scope type this adapter does not serve (ASGI says: raise)."""


class _Disconnected(Exception):
    """The peer went away before its request was complete."""


class AsgiAdapter:
    """An ASGI 3 callable serving ``app`` with the caps and deadlines of ``config``."""

    def __init__(
        self,
        app: HttpApp,
        config: HttpConfig,
        *,
        caps: ConnectionCaps | None = None,
        boundary: Boundary | None = None,
    ) -> None:
        self.app = app
        self.config = config
        self.boundary = boundary or Boundary()  # where a bug in the app stops (core.isolation)
        self.caps = caps or ConnectionCaps(
            total=config.max_connections, per_address=config.max_connections_per_address
        )
        self._websockets = 0
        self._no_websockets = trio.Event()
        self._no_websockets.set()

    def _client(self, scope: Scope) -> str:
        """The TCP peer, or the client behind it when the peer is a trusted proxy."""
        return client_address(_peer(scope), _headers(scope), self.config.trusted_proxies)

    @property
    def websockets(self) -> int:
        """WebSocket sessions open right now."""
        return self._websockets

    async def wait_websockets_closed(self) -> None:
        """Return once no WebSocket session is open (used by the graceful shutdown)."""
        while self._websockets:
            await self._no_websockets.wait()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope.get("type")
        if kind == "http":
            await self._http(scope, receive, send)
        elif kind == "websocket":
            await self._websocket(scope, receive, send)
        elif kind == "lifespan":
            await _trivial_lifespan(receive, send)
        else:
            raise UnsupportedScope(f"Tipo de escopo ASGI não suportado: {kind!r}")

    # -- HTTP -----------------------------------------------------------------------------

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        client = self._client(scope)
        refusal = self.caps.open(client)
        if refusal is not None:
            await send_response(send, refusal_response(refusal.reason))
            return
        try:
            response = await self._answer(scope, receive, client)
            if response is not None and response.stream is not None:
                await self._send_stream(response, receive, send, _method(scope), client)
            elif response is not None:
                await send_response(send, response)
        finally:
            self.caps.close(client)

    async def _send_stream(
        self, response: Response, receive: Receive, send: Send, method: str, client: str
    ) -> None:
        """A streamed body (see ``Response.stream``), stopped when the peer disconnects. A bug
        in the stream ends only this response (logged); its body is left unfinished, which the
        server turns into a cut connection, so the client never takes it for complete."""
        assert response.stream is not None
        start = {"type": "http.response.start", "status": response.status}
        async with aclosing(response.stream) as stream, trio.open_nursery() as nursery:
            nursery.start_soon(_cancel_on_disconnect, receive, nursery.cancel_scope)
            await send(start | {"headers": _head(response)})
            crashed = False
            while method != "HEAD":
                chunk: bytes | None = None
                with self.boundary.guard("http_stream", client) as guard:
                    chunk = await anext(stream, None)
                crashed = guard.crashed is not None
                if crashed or chunk is None:
                    break
                if chunk:
                    await send({"type": "http.response.body", "body": chunk, "more_body": True})
            if not crashed:
                await send({"type": "http.response.body", "body": b"", "more_body": False})
            nursery.cancel_scope.cancel()

    async def _answer(self, scope: Scope, receive: Receive, client: str) -> Response | None:
        """The response to send; None when the peer went away first."""
        try:
            body: bytes | None = None
            with trio.move_on_after(self.config.request_timeout_s):
                body = await self._read_body(scope, receive)
            if body is None:
                return error_response(
                    ClientError("Tempo esgotado aguardando a requisição", status=408)
                )
        except _Disconnected:
            return None
        except ClientError as exc:
            return error_response(exc)
        request = Request(
            method=_method(scope),
            target=request_target(scope),
            headers=_headers(scope),
            body=body,
            client=client,
            scheme=_scheme(scope),
        )
        response: Response | None = None
        async with trio.open_nursery() as nursery:
            nursery.start_soon(_cancel_on_disconnect, receive, nursery.cancel_scope)
            response = await self._handle(request)
            nursery.cancel_scope.cancel()
        return response

    async def _handle(self, request: Request) -> Response:
        return await guarded_answer(self.app.handle_http, request, self.boundary, "http_request")

    async def _read_body(self, scope: Scope, receive: Receive) -> bytes:
        limit = BodyLimit(self.config.max_body_bytes, _content_length(scope))
        chunks: list[bytes] = []
        while True:
            event = await receive()
            kind = event.get("type")
            if kind == "http.disconnect":
                raise _Disconnected
            if kind != "http.request":
                continue
            chunk = bytes(event.get("body") or b"")
            limit.add(len(chunk))
            chunks.append(chunk)
            if not event.get("more_body", False):
                return b"".join(chunks)

    # -- WebSocket ------------------------------------------------------------------------

    async def _websocket(self, scope: Scope, receive: Receive, send: Send) -> None:
        first = await receive()
        if first.get("type") != "websocket.connect":
            return  # the peer left before the handshake
        client = self._client(scope)
        request = Request(
            method="GET",
            target=request_target(scope),
            headers=_headers(scope),
            client=client,
            scheme=_scheme(scope),
        )
        refusal = self.caps.open(client)
        handler: WebSocketHandler | None
        if refusal is None:
            handler = self.app.websocket_handler(request)
        else:
            handler = partial(close_try_again_later, refusal=refusal)
        self._websockets += 1
        self._no_websockets = trio.Event()
        try:
            async with trio.open_nursery() as nursery:
                upgrade = AsgiUpgrade(
                    scope,
                    receive,
                    send,
                    nursery,
                    max_message_bytes=self.config.ws_max_message_bytes,
                )
                if handler is None:
                    missing = {"error": f"Nenhum WebSocket em {request.path}"}
                    await _reject_with(upgrade, json_response(404, missing))
                else:
                    with self.boundary.guard("websocket", client) as guard:
                        await handler(upgrade)
                    await _finish(upgrade, crashed=guard.crashed is not None)
                nursery.cancel_scope.cancel()
        finally:
            if refusal is None:
                self.caps.close(client)
            self._websockets -= 1
            if not self._websockets:
                self._no_websockets.set()


async def send_response(send: Send, response: Response) -> None:
    """One complete ASGI HTTP response (header names lower-cased: HTTP/2 requires it)."""
    await send(
        {"type": "http.response.start", "status": response.status, "headers": _head(response)}
    )
    await send({"type": "http.response.body", "body": response.body, "more_body": False})


def _method(scope: Scope) -> str:
    return str(scope.get("method", "GET"))


def _head(response: Response) -> list[tuple[bytes, bytes]]:
    """The header list (names lower-cased: HTTP/2 requires it); a stream has no length."""
    headers = [(b"content-type", response.content_type.encode("latin-1"))]
    if response.stream is None:
        headers.append((b"content-length", str(len(response.body)).encode()))
    headers += [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in response.headers]
    return headers


async def _cancel_on_disconnect(receive: Receive, scope: trio.CancelScope) -> None:
    while (await receive()).get("type") != "http.disconnect":
        pass  # nothing else is expected once the body is read
    scope.cancel()


async def _finish(upgrade: AsgiUpgrade, *, crashed: bool) -> None:
    """What the handler left undone: an unanswered handshake is refused, an open socket closed
    (1011 and a 500 when the handler crashed)."""
    if upgrade.state is HandshakeState.PENDING:
        if crashed:
            await _reject_with(upgrade, json_response(500, {"error": INTERNAL_ERROR}))
        else:
            await upgrade.reject(403)
    elif upgrade.connection is not None and upgrade.connection.closed is None:
        with trio.move_on_after(CLOSE_TIMEOUT_S):
            if crashed:
                await upgrade.connection.aclose(INTERNAL_ERROR_CLOSE, INTERNAL_ERROR)
            else:
                await upgrade.connection.aclose()


async def _reject_with(upgrade: AsgiUpgrade, response: Response) -> None:
    headers = [(b"content-type", response.content_type.encode("latin-1"))]
    await upgrade.reject(response.status, extra_headers=headers, body=response.body)


async def _trivial_lifespan(receive: Receive, send: Send) -> None:
    while True:
        kind = (await receive()).get("type")
        if kind == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif kind == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


def _peer(scope: Scope) -> str:
    client = scope.get("client")
    return str(client[0]) if client else ""


def _headers(scope: Scope) -> tuple[tuple[str, str], ...]:
    headers = [
        (bytes(name).decode("latin-1").lower(), bytes(value).decode("latin-1"))
        for name, value in scope.get("headers", ())
    ]
    return tuple(headers)


def _scheme(scope: Scope) -> str:
    return "https" if scope.get("scheme") in TLS_SCHEMES else "http"


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if bytes(name).lower() == b"content-length":
            try:
                return int(value)
            except ValueError as exc:
                raise BadRequest("Content-Length inválido") from exc
    return None
