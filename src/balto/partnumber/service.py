"""Running the Partnumber service: load the classifier, then serve REST + Socket.IO."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import trio

from balto.core.config import HttpConfig
from balto.core.lifecycle import Lifecycle
from balto.core.listener import serve
from balto.core.metrics import ServerMetrics
from balto.partnumber.app import PartnumberApp
from balto.partnumber.config import DEFAULT_MAX_QUEUED_TASKS, PartnumberConfig
from balto.partnumber.tasks import TaskRegistry
from balto.partnumber.worker import ClassifierLike
from balto.socketio import CorsConfig, EngineConfig
from balto.socketio.shell import SocketIOShell

__all__ = ["load_classifier", "run_partnumber", "socketio_config"]

log = logging.getLogger(__name__)

#: Room above Engine.IO's maxPayload (1,000,000) for HTTP framing and WebSocket frames.
BODY_HEADROOM_BYTES = 64 * 1024


def socketio_config(config: HttpConfig, engine: EngineConfig) -> HttpConfig:
    """``config`` with HTTP body / WebSocket message caps large enough for ``maxPayload``."""
    need = engine.max_payload + BODY_HEADROOM_BYTES
    return dataclasses.replace(
        config,
        max_body_bytes=max(config.max_body_bytes, need),
        ws_max_message_bytes=max(config.ws_max_message_bytes, need),
    )


def load_classifier(
    catalog_csv: Path | None = None, ncm_json: Path | None = None, cache_dir: Path | None = None
) -> ClassifierLike:
    """The real classifier (blocking: run it in a thread)."""
    from balto.partnumber.classify import Classifier

    classifier: ClassifierLike = Classifier.load(
        catalog_csv=catalog_csv, ncm_json=ncm_json, cache_dir=cache_dir
    )
    return classifier


@asynccontextmanager
async def open_partnumber(
    *,
    classifier_factory: Callable[[], ClassifierLike],
    lifecycle: Lifecycle,
    cors: CorsConfig | None = None,
    engine_config: EngineConfig | None = None,
    registry: TaskRegistry | None = None,
    queue_size: int = DEFAULT_MAX_QUEUED_TASKS,
) -> AsyncIterator[PartnumberApp]:
    """The app with its classifier loaded, and the Socket.IO timer and the classification
    worker running, for as long as the context lasts; our listener and ASGI both serve it."""
    classifier = await trio.to_thread.run_sync(classifier_factory)
    shell = SocketIOShell(engine_config, cors=cors, metrics=ServerMetrics())
    partnumber_app = PartnumberApp(classifier, shell, registry=registry, queue_size=queue_size)
    async with trio.open_nursery() as nursery:
        nursery.start_soon(shell.run, lifecycle.stopping)
        nursery.start_soon(partnumber_app.worker.run)
        yield partnumber_app
        nursery.cancel_scope.cancel()


async def run_partnumber(
    config: PartnumberConfig,
    *,
    classifier_factory: Callable[[], ClassifierLike],
    lifecycle: Lifecycle,
    cors: CorsConfig | None = None,
    engine_config: EngineConfig | None = None,
    registry: TaskRegistry | None = None,
    task_status: trio.TaskStatus[list[trio.SocketListener]] = trio.TASK_STATUS_IGNORED,
) -> None:
    """Load the classifier (in a thread), then serve until ``lifecycle.stop()``."""
    engine_config = engine_config or EngineConfig()
    async with open_partnumber(
        classifier_factory=classifier_factory,
        lifecycle=lifecycle,
        cors=cors if cors is not None else config.cors,
        engine_config=engine_config,
        registry=registry,
        queue_size=config.max_queued_tasks,
    ) as app:
        await serve(
            app,
            socketio_config(config.http, engine_config),
            lifecycle,
            app.metrics,
            task_status=task_status,
        )
