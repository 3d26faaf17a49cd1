"""The Partnumber classification service (REST + Socket.IO) as an ASGI application.

``app`` is what an ASGI server imports::

    hypercorn --worker-class trio 'balto.partnumber.asgi:app' \\
        --certfile cert.pem --keyfile key.pem --bind 0.0.0.0:5000

At startup (ASGI lifespan) the config is read from the environment
(:class:`~balto.partnumber.config.PartnumberConfig`), the classifier is loaded in a thread, and
the Socket.IO timer and the classification worker start (with ``REDIS_URL``: no classifier; the
tasks go to Redis for ``balto partnumber worker`` processes).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from functools import partial

from balto.core.asgi.adapter import AsgiAdapter
from balto.core.asgi.lifespan import LifespanApp
from balto.core.lifecycle import Lifecycle
from balto.partnumber.config import PartnumberConfig
from balto.partnumber.service import (
    load_configured_classifier,
    open_partnumber,
    socketio_config,
)
from balto.partnumber.tasks import TaskRegistry
from balto.partnumber.worker import ClassifierLike
from balto.socketio import CorsConfig, EngineConfig

__all__ = ["app", "create_app", "open_partnumber"]


def create_app(
    config: PartnumberConfig | None = None,
    *,
    classifier_factory: Callable[[], ClassifierLike] | None = None,
    cors: CorsConfig | None = None,
    engine_config: EngineConfig | None = None,
    registry: TaskRegistry | None = None,
    lifecycle: Lifecycle | None = None,
) -> LifespanApp:
    """The ASGI app; what is not given is read from the environment at startup."""
    engine = engine_config or EngineConfig()

    @asynccontextmanager
    async def open_adapter(lifecycle: Lifecycle) -> AsyncIterator[AsgiAdapter]:
        resolved = config if config is not None else PartnumberConfig.from_env()
        factory = classifier_factory or partial(load_configured_classifier, resolved)
        async with open_partnumber(
            classifier_factory=factory,
            lifecycle=lifecycle,
            cors=cors if cors is not None else resolved.cors,
            engine_config=engine,
            registry=registry,
            queue_size=resolved.max_queued_tasks,
            redis_url=resolved.redis_url,
            task_ttl_s=resolved.task_ttl_s,
        ) as partnumber_app:
            yield AsgiAdapter(
                partnumber_app,
                socketio_config(resolved.http, engine),
                boundary=partnumber_app.metrics.boundary,
            )

    return LifespanApp(open_adapter, lifecycle=lifecycle)


app = create_app()
