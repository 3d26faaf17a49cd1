"""The listener: one ``trio.serve_listeners`` loop, one task per connection, graceful stop.

Each connection is counted against the caps the moment it is accepted, by its client's network:
the TCP peer, or the client named by the PROXY protocol header a ``TRUSTED_PROXIES`` peer may
open with (read first, :func:`relayed_client`); behind a proxy that sends none, the proxy's
address (its requests' X-Forwarded-For name the client only later: :mod:`balto.core.forwarded`).
Each runs inside the crash boundary (:mod:`balto.core.isolation`): a bug reached while serving
it ends that connection alone. A connection over the caps is answered (503, or a WebSocket
closed 1013) within ``REFUSAL_TIMEOUT_S`` while at most ``REFUSALS_IN_FLIGHT`` such answers are
under way; beyond that it is closed at once. So the server holds at most about
``max_connections`` + ``REFUSALS_IN_FLIGHT`` sockets whatever arrives, and ``max_connections``
is lowered at start to what the process's descriptor limit (raised to its hard limit) can hold.

On ``lifecycle.stop()``: stop accepting, let idle keep-alive connections go at once, let
WebSocket sessions close with 1001, and give the rest ``shutdown_grace_s`` to finish.
"""

from __future__ import annotations

import contextlib
import logging
import resource
from functools import partial

import trio

from balto.core.config import HttpConfig
from balto.core.http.connection import HttpApp, serve_connection
from balto.core.lifecycle import Lifecycle
from balto.core.limits import ConnectionCaps, Refusal, network_of
from balto.core.metrics import ServerMetrics
from balto.core.proxy_protocol import (
    MAX_HEADER_BYTES,
    NotProxy,
    ProxyHeader,
    ProxyProtocolError,
    parse_proxy_header,
)

log = logging.getLogger(__name__)

REFUSALS_IN_FLIGHT = 64
REFUSAL_TIMEOUT_S = 1.0
#: Descriptors kept for everything but client sockets: listeners, the database and its WAL,
#: the model file, worker threads' pipes, logs.
RESERVED_DESCRIPTORS = 64
CLOSE_AT_ONCE_SEND_S = 0.1
_FULL = '{"error": "Servidor lotado: limite de conexões atingido"}'.encode()
#: What a connection over every budget gets before it is closed, without reading anything.
CLOSED_AT_ONCE = (
    b"HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json; charset=utf-8\r\n"
    b"retry-after: 5\r\nconnection: close\r\ncontent-length: %d\r\n\r\n%s" % (len(_FULL), _FULL)
)


def _peer(stream: trio.abc.Stream) -> str:
    if isinstance(stream, trio.SocketStream):
        try:
            return str(stream.socket.getpeername()[0])
        except OSError:
            return ""
    return ""


async def relayed_client(
    stream: trio.abc.Stream, peer: str, timeout_s: float
) -> tuple[str, bytes] | None:
    """A trusted peer's connection: the client its PROXY protocol header names (the peer itself
    without a header, or when the proxy speaks for itself) and the bytes read past the header;
    None when the connection must be closed (a broken header, none within ``timeout_s``)."""
    data = b""
    with trio.move_on_after(timeout_s):
        while True:
            try:
                parsed = parse_proxy_header(data)
            except ProxyProtocolError as exc:
                log.info("%s: %s", peer, exc.message)
                return None
            if isinstance(parsed, NotProxy):
                return peer, data
            if isinstance(parsed, ProxyHeader):
                return parsed.source or peer, data[parsed.length :]
            try:
                chunk = await stream.receive_some(MAX_HEADER_BYTES)
            except (trio.BrokenResourceError, trio.ClosedResourceError):
                return None
            if not chunk:
                return None
            data += chunk
    return None


def raise_descriptor_limit() -> int:
    """Raise the soft ``RLIMIT_NOFILE`` to the hard limit; return the soft limit in force."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = hard if hard != resource.RLIM_INFINITY else max(soft, 1 << 20)
    if soft == resource.RLIM_INFINITY or soft >= target:
        return soft if soft != resource.RLIM_INFINITY else target
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    except (ValueError, OSError) as exc:
        log.warning("could not raise RLIMIT_NOFILE from %d to %d: %s", soft, target, exc)
        return soft
    return target


def connection_budget(max_connections: int, descriptor_limit: int) -> int:
    """How many connections may be open at once: ``max_connections``, or fewer when the
    descriptor limit cannot hold them with the refusals and the reserve beside them."""
    room = descriptor_limit - RESERVED_DESCRIPTORS - REFUSALS_IN_FLIGHT
    return max(1, min(max_connections, room))


async def serve(
    app: HttpApp,
    config: HttpConfig,
    lifecycle: Lifecycle,
    metrics: ServerMetrics,
    *,
    task_status: trio.TaskStatus[list[trio.SocketListener]] = trio.TASK_STATUS_IGNORED,
) -> None:
    listeners = await trio.open_tcp_listeners(config.port, host=config.host or None)
    descriptors = raise_descriptor_limit()
    total = connection_budget(config.max_connections, descriptors)
    log.info(
        "connection budget: %d connections (MAX_CONNECTIONS=%d, RLIMIT_NOFILE=%d), "
        "%d per address, %d refusals answered at once",
        total,
        config.max_connections,
        descriptors,
        config.max_connections_per_address,
        REFUSALS_IN_FLIGHT,
    )
    caps = ConnectionCaps(total=total, per_address=config.max_connections_per_address)
    refusals = ConnectionCaps(total=REFUSALS_IN_FLIGHT, per_address=REFUSALS_IN_FLIGHT)
    boundary = metrics.boundary

    async def refuse(
        stream: trio.abc.Stream, address: str, refusal: Refusal, received: bytes
    ) -> None:
        metrics.connections_refused.inc()
        if refusals.open("") is not None:
            metrics.connections_closed_at_once.inc()
            with trio.move_on_after(CLOSE_AT_ONCE_SEND_S):
                # Sent if the socket takes it at once; a peer already gone is told nothing.
                with contextlib.suppress(trio.BrokenResourceError, trio.ClosedResourceError):
                    await stream.send_all(CLOSED_AT_ONCE)
            with trio.CancelScope(shield=True):
                await trio.aclose_forcefully(stream)
            return
        try:
            # Answered, not dropped: 503 for HTTP, close 1013 for a WebSocket.
            with trio.move_on_after(REFUSAL_TIMEOUT_S), boundary.guard("http_refusal", address):
                await serve_connection(
                    stream,
                    app,
                    config,
                    lifecycle,
                    address,
                    refusal=refusal,
                    boundary=boundary,
                    received=received,
                )
        finally:
            refusals.close("")  # the connection closed its stream on the way out

    async def handle(stream: trio.abc.Stream) -> None:
        address, received = _peer(stream), b""
        if config.trusted_proxies.trusts(address):  # it may name the client: PROXY protocol
            relayed = await relayed_client(stream, address, config.request_timeout_s)
            if relayed is None:
                await trio.aclose_forcefully(stream)
                return
            address, received = relayed
        network = network_of(address)  # an IPv6 host holds a whole /64: it counts as one
        refusal = caps.open(network)
        if refusal is not None:
            await refuse(stream, address, refusal, received)
            return
        metrics.connections_total.labels("tcp").inc()
        metrics.connections.labels("tcp").inc()
        try:
            with boundary.guard("http_connection", address):
                await serve_connection(
                    stream, app, config, lifecycle, address, boundary=boundary, received=received
                )
        finally:
            caps.close(network)  # the connection closed its stream on the way out
            metrics.connections.labels("tcp").dec()

    async with trio.open_nursery() as handlers:
        async with trio.open_nursery() as acceptor:
            await acceptor.start(
                partial(trio.serve_listeners, handle, listeners, handler_nursery=handlers)
            )
            for listener in listeners:
                log.info("listening on %s", listener.socket.getsockname())
            task_status.started(listeners)
            await lifecycle.stopping.wait()
            acceptor.cancel_scope.cancel()
        for listener in listeners:
            await listener.aclose()
        handlers.cancel_scope.deadline = trio.current_time() + config.shutdown_grace_s


def bound_port(listeners: list[trio.SocketListener]) -> int:
    return int(listeners[0].socket.getsockname()[1])
