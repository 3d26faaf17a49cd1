"""``LifespanApp``: an ASGI application whose app is built in the ASGI lifespan and lives for it.

On ``lifespan.startup`` it enters ``open_adapter(lifecycle)``, an async context manager that
assembles the service (config, database, worker tasks in a nursery) and yields the
:class:`~balto.core.asgi.adapter.AsgiAdapter` to serve; requests go to that adapter until
``lifespan.shutdown``, which calls ``lifecycle.stop()`` and leaves the context (the nursery's
tasks end there). Hypercorn's trio worker runs the lifespan as one long task, so a nursery opened
in the context lives exactly as long as the server.

A ``BaltoError`` while starting becomes ``lifespan.startup.failed`` with its (Portuguese)
message, and the server refuses to start; one while running or stopping becomes
``lifespan.shutdown.failed``. Anything else propagates to the server, which logs it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from typing import TypeVar

import trio

from balto.core.asgi.adapter import AsgiAdapter, send_response
from balto.core.asgi.types import Receive, Scope, Send
from balto.core.errors import BaltoError
from balto.core.http.messages import json_response
from balto.core.lifecycle import Lifecycle

__all__ = ["AdapterOpener", "LifespanApp", "leaves"]

log = logging.getLogger(__name__)

E = TypeVar("E", bound=BaseException)
AdapterOpener = Callable[[Lifecycle], AbstractAsyncContextManager[AsgiAdapter]]
NOT_STARTED = "Servidor indisponível: aplicação não iniciada (o servidor ASGI precisa de lifespan)"


class LifespanApp:
    """An ASGI 3 callable (see the module doc)."""

    def __init__(self, open_adapter: AdapterOpener, *, lifecycle: Lifecycle | None = None) -> None:
        self._open_adapter = open_adapter
        self.lifecycle = lifecycle or Lifecycle()
        self.adapter: AsgiAdapter | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope.get("type") == "lifespan":
            await self._lifespan(receive, send)
            return
        adapter = self.adapter
        if adapter is not None:
            await adapter(scope, receive, send)
        elif scope.get("type") == "websocket":
            if (await receive()).get("type") == "websocket.connect":
                await send({"type": "websocket.close", "code": 1011})
        else:
            await send_response(send, json_response(503, {"error": NOT_STARTED}))

    async def drain(self, grace_s: float) -> None:
        """Begin a graceful stop before the server's own: ``lifecycle.stop()`` (counter sockets
        close with 1001, Socket.IO sessions end, long-polls return), then wait up to ``grace_s``
        for the WebSocket sessions to finish."""
        self.lifecycle.stop()
        adapter = self.adapter
        if adapter is not None:
            with trio.move_on_after(grace_s):
                await adapter.wait_websockets_closed()

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        if (await receive()).get("type") != "lifespan.startup":
            return
        started = False
        failures: list[str] = []
        try:
            async with self._open_adapter(self.lifecycle) as adapter:
                self.adapter = adapter
                started = True
                await send({"type": "lifespan.startup.complete"})
                while (await receive()).get("type") != "lifespan.shutdown":
                    pass  # nothing else is defined between startup and shutdown
                self.lifecycle.stop()
        except* BaltoError as group:
            failures = [error.message for error in leaves(group)]
        finally:
            self.adapter = None
        if not failures:
            await send({"type": "lifespan.shutdown.complete"})
            return
        message = "; ".join(failures)
        log.error("lifespan %s failed: %s", "shutdown" if started else "startup", message)
        kind = "lifespan.shutdown.failed" if started else "lifespan.startup.failed"
        await send({"type": kind, "message": message})


def leaves(group: BaseExceptionGroup[E]) -> list[E]:
    """The exceptions of a (possibly nested) exception group, in order."""
    found: list[E] = []
    for error in group.exceptions:
        if isinstance(error, BaseExceptionGroup):
            found += leaves(error)
        else:
            found.append(error)
    return found
