"""Running the Partnumber service: load the classifier, then serve REST + Socket.IO."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path

import trio

from balto.core.config import ConfigError, HttpConfig
from balto.core.lifecycle import Lifecycle
from balto.core.listener import serve
from balto.core.metrics import ServerMetrics
from balto.core.redis.client import open_redis
from balto.partnumber.app import PartnumberApp
from balto.partnumber.backend import TaskBackend
from balto.partnumber.config import (
    DEFAULT_MAX_QUEUED_TASKS,
    PartnumberConfig,
    resolve_ncm_table,
)
from balto.partnumber.queue import DEFAULT_TASK_TTL_S, TaskQueue
from balto.partnumber.redis_worker import StreamWorker
from balto.partnumber.remote import RedisTasks
from balto.partnumber.tasks import TaskRegistry
from balto.partnumber.worker import ClassifierLike
from balto.socketio import CorsConfig, EngineConfig
from balto.socketio.shell import SocketIOShell

__all__ = [
    "load_classifier",
    "load_configured_classifier",
    "run_partnumber",
    "run_worker",
    "socketio_config",
]

log = logging.getLogger(__name__)

WORKER_DRAIN_S = 60.0  # on stop, how long a worker may take to finish the task in hand
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
    catalog_csv: Path | None = None, ncm_table: Path | None = None, cache_dir: Path | None = None
) -> ClassifierLike:
    """The real classifier (blocking: run it in a thread)."""
    from balto.partnumber.classify import Classifier

    classifier: ClassifierLike = Classifier.load(
        catalog_csv=catalog_csv, ncm_table=ncm_table, cache_dir=cache_dir
    )
    return classifier


def load_configured_classifier(config: PartnumberConfig) -> ClassifierLike:
    """The classifier as ``config`` asks for it, with the NCM table :func:`resolve_ncm_table`
    chooses (by default the installed one): what ``balto partnumber serve``, the worker and
    the ASGI app load (blocking: run it in a thread)."""
    return load_classifier(
        config.catalog_csv, resolve_ncm_table(config), config.classifier_cache_dir
    )


@asynccontextmanager
async def open_partnumber(
    *,
    classifier_factory: Callable[[], ClassifierLike],
    lifecycle: Lifecycle,
    cors: CorsConfig | None = None,
    engine_config: EngineConfig | None = None,
    registry: TaskRegistry | None = None,
    queue_size: int = DEFAULT_MAX_QUEUED_TASKS,
    redis_url: str = "",
    task_ttl_s: float = DEFAULT_TASK_TTL_S,
) -> AsyncIterator[PartnumberApp]:
    """The app with its tasks' machinery and the Socket.IO timer running, for as long as the
    context lasts; our listener and ASGI both serve it. Without ``redis_url`` the classifier is
    loaded here and classifies in-process; with it, the tasks go to Redis for
    ``balto partnumber worker`` processes (no classifier here) and the room events come back
    through it."""
    shell = SocketIOShell(engine_config, cors=cors, metrics=ServerMetrics())
    async with AsyncExitStack() as stack:
        if redis_url:
            redis = await stack.enter_async_context(open_redis(redis_url))
            backend = RedisTasks(
                TaskQueue(redis, ttl_s=task_ttl_s),
                shell,
                boundary=shell.metrics.boundary,
                max_queued=queue_size,
            )
            partnumber_app = PartnumberApp(None, shell, backend=backend)
            log.info("partnumber: tasks in Redis, classified by the workers")
        else:
            classifier = await trio.to_thread.run_sync(classifier_factory)
            partnumber_app = PartnumberApp(
                classifier, shell, registry=registry, queue_size=queue_size
            )
        async with trio.open_nursery() as nursery:
            nursery.start_soon(shell.run, lifecycle.stopping)
            await nursery.start(_run_tasks, partnumber_app.tasks)
            yield partnumber_app
            nursery.cancel_scope.cancel()


async def _run_tasks(
    tasks: TaskBackend, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED
) -> None:
    if isinstance(tasks, RedisTasks):
        await tasks.run(task_status=task_status)  # started once subscribed to the channel
        return
    task_status.started()
    await tasks.run()


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
        redis_url=config.redis_url,
        task_ttl_s=config.task_ttl_s,
    ) as app:
        await serve(
            app,
            socketio_config(config.http, engine_config),
            lifecycle,
            app.metrics,
            task_status=task_status,
        )


async def run_worker(
    config: PartnumberConfig,
    *,
    classifier_factory: Callable[[], ClassifierLike],
    lifecycle: Lifecycle,
    task_status: trio.TaskStatus[StreamWorker] = trio.TASK_STATUS_IGNORED,
) -> None:
    """``balto partnumber worker``: classify the tasks queued in Redis until
    ``lifecycle.stop()``; the task in hand then is finished (for up to ``WORKER_DRAIN_S``,
    beyond which it is left pending for another worker to claim)."""
    if not config.redis_url:
        raise ConfigError("balto partnumber worker precisa de REDIS_URL")
    classifier = await trio.to_thread.run_sync(classifier_factory)
    async with open_redis(config.redis_url) as redis, trio.open_nursery() as nursery:
        worker = StreamWorker(
            TaskQueue(redis, ttl_s=config.task_ttl_s),
            classifier,
            boundary=ServerMetrics().boundary,
            claim_idle_s=config.claim_idle_s,
        )
        await nursery.start(worker.run)
        task_status.started(worker)
        await lifecycle.stopping.wait()
        with trio.move_on_after(WORKER_DRAIN_S):  # finish (and store) the task in hand
            await worker.drain()
        nursery.cancel_scope.cancel()
