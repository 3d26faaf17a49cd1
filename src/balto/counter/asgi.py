"""The Balto service (registration + counter WebSocket) as an ASGI application.

``app`` is what an ASGI server imports::

    hypercorn --worker-class trio 'balto.counter.asgi:app' \\
        --certfile cert.pem --keyfile key.pem --bind 0.0.0.0:8765 \\
        --websocket-ping-interval 20 --read-timeout 60

Everything happens in the ASGI lifespan: the config is read from the environment
(``CounterConfig.from_env()``; ``HOST``/``PORT`` are the ASGI server's business, not read here), the
speech model is resolved (``BALTO_MODEL`` or the converted cache: install it beforehand with
``balto model install``, since a conversion may outlast the server's startup timeout), the
database is opened and the whisper pool loaded before the server accepts anything; at shutdown
the pool stops and the database closes.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import trio

from balto.core.asgi.adapter import AsgiAdapter
from balto.core.asgi.lifespan import LifespanApp
from balto.core.lifecycle import Lifecycle
from balto.counter.app import TranscriberFactory, open_balto, whisper_factory
from balto.counter.config import CounterConfig

__all__ = ["app", "create_app", "open_balto", "whisper_factory"]


def create_app(
    config: CounterConfig | None = None,
    *,
    transcriber_factory: TranscriberFactory | None = None,
    lifecycle: Lifecycle | None = None,
) -> LifespanApp:
    """The ASGI app. ``config`` defaults to ``CounterConfig.from_env()`` and
    ``transcriber_factory`` to whisper.cpp on the resolved model, both resolved at startup (tests
    pass doubles)."""

    @asynccontextmanager
    async def open_adapter(lifecycle: Lifecycle) -> AsyncIterator[AsgiAdapter]:
        resolved = config if config is not None else CounterConfig.from_env()
        factory = transcriber_factory
        if factory is None:
            factory = await trio.to_thread.run_sync(whisper_factory, resolved)
        async with open_balto(
            resolved, transcriber_factory=factory, lifecycle=lifecycle
        ) as balto_app:
            yield AsgiAdapter(
                balto_app, resolved.http, boundary=balto_app.services.metrics.boundary
            )

    return LifespanApp(open_adapter, lifecycle=lifecycle)


app = create_app()
