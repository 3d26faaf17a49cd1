"""The listener: one ``trio.serve_listeners`` loop, one task per connection, graceful stop.

On ``lifecycle.stop()``: stop accepting, let idle keep-alive connections go at once, let
WebSocket sessions close with 1001, and give the rest ``shutdown_grace_s`` to finish.
"""

from __future__ import annotations

import logging
from functools import partial

import trio

from balto.config import Config
from balto.http.connection import HttpApp, serve_connection
from balto.lifecycle import Lifecycle
from balto.limits import ConnectionCaps
from balto.metrics import Metrics

log = logging.getLogger(__name__)


def _peer(stream: trio.abc.Stream) -> str:
    if isinstance(stream, trio.SocketStream):
        try:
            return str(stream.socket.getpeername()[0])
        except OSError:
            return ""
    return ""


async def serve(
    app: HttpApp,
    config: Config,
    lifecycle: Lifecycle,
    metrics: Metrics,
    *,
    task_status: trio.TaskStatus[list[trio.SocketListener]] = trio.TASK_STATUS_IGNORED,
) -> None:
    listeners = await trio.open_tcp_listeners(config.port, host=config.host or None)
    caps = ConnectionCaps(
        total=config.max_connections, per_address=config.max_connections_per_address
    )

    async def handle(stream: trio.abc.Stream) -> None:
        address = _peer(stream)
        refusal = caps.open(address)
        if refusal is not None:
            metrics.connections_refused.inc()
            # Answered, not dropped: 503 for HTTP, close 1013 for a WebSocket.
            await serve_connection(stream, app, config, lifecycle, address, refusal=refusal)
            return
        metrics.connections_total.labels("tcp").inc()
        metrics.connections.labels("tcp").inc()
        try:
            await serve_connection(stream, app, config, lifecycle, address)
        finally:
            caps.close(address)
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
