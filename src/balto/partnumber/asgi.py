"""The Partnumber classification service (REST + Socket.IO) as an ASGI application.

``app`` is what an ASGI server imports::

    hypercorn --worker-class trio 'balto.partnumber.asgi:app' \\
        --certfile cert.pem --keyfile key.pem --bind 0.0.0.0:5000

At startup (ASGI lifespan) the config is read from the environment, the classifier is loaded in
a thread, and the Socket.IO timer and the classification worker start; the options that
``balto partnumber serve`` takes as flags come from ``PARTNUMBER_CATALOG`` (CSV),
``PARTNUMBER_NCM`` (JSON) and ``PARTNUMBER_CORS_ORIGINS`` (comma-separated; ``*`` for any;
unset: same origin only).
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from functools import partial
from pathlib import Path

from balto.config import Config
from balto.core.asgi.adapter import AsgiAdapter
from balto.core.asgi.lifespan import LifespanApp
from balto.core.lifecycle import Lifecycle
from balto.partnumber.service import load_classifier, open_partnumber, socketio_config
from balto.partnumber.tasks import TaskRegistry
from balto.partnumber.worker import ClassifierLike
from balto.socketio import CorsConfig, EngineConfig

__all__ = ["app", "cors_from_env", "create_app", "open_partnumber"]


def cors_from_env(env: Mapping[str, str] | None = None) -> CorsConfig:
    env = os.environ if env is None else env
    origins = [o.strip() for o in env.get("PARTNUMBER_CORS_ORIGINS", "").split(",") if o.strip()]
    if not origins:
        return CorsConfig()
    return CorsConfig(allowed_origins="*" if origins == ["*"] else origins)


def _env_path(name: str) -> Path | None:
    value = os.environ.get(name)
    return Path(value).expanduser() if value else None


def create_app(
    config: Config | None = None,
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
        resolved = config if config is not None else Config.from_env()
        factory = classifier_factory or partial(
            load_classifier,
            _env_path("PARTNUMBER_CATALOG"),
            _env_path("PARTNUMBER_NCM"),
            resolved.cache_dir / "partnumber",
        )
        async with open_partnumber(
            classifier_factory=factory,
            lifecycle=lifecycle,
            cors=cors if cors is not None else cors_from_env(),
            engine_config=engine,
            registry=registry,
        ) as partnumber_app:
            yield AsgiAdapter(
                partnumber_app,
                socketio_config(resolved, engine),
                boundary=partnumber_app.metrics.boundary,
            )

    return LifespanApp(open_adapter, lifecycle=lifecycle)


app = create_app()
