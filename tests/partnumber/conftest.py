"""A real Partnumber server on a loopback port, with the scripted classifier double."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from functools import partial

import pytest
import trio

from balto.core.config import HttpConfig
from balto.core.lifecycle import Lifecycle
from balto.core.listener import bound_port
from balto.partnumber.config import PartnumberConfig
from balto.partnumber.service import run_partnumber
from balto.partnumber.tasks import TaskRegistry
from balto.partnumber.worker import ClassifierLike
from balto.socketio import CorsConfig, EngineConfig
from tests.partnumber.doubles import ScriptedClassifier
from tests.redis_server import redis_server_port, redis_url

__all__ = ["redis_server_port", "redis_url"]  # the real redis-server fixtures


@dataclasses.dataclass
class PartnumberServer:
    port: int
    lifecycle: Lifecycle
    registry: TaskRegistry
    classifier: ClassifierLike

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


async def start_partnumber(
    nursery: trio.Nursery,
    classifier: ClassifierLike,
    engine_config: EngineConfig | None = None,
    cors: CorsConfig | None = None,
    max_queued_tasks: int = 64,
    redis_url: str = "",
) -> PartnumberServer:
    lifecycle = Lifecycle()
    registry = TaskRegistry()
    listeners = await nursery.start(
        partial(
            run_partnumber,
            PartnumberConfig(
                http=HttpConfig(host="127.0.0.1", port=0, shutdown_grace_s=1.0),
                max_queued_tasks=max_queued_tasks,
                redis_url=redis_url,
            ),
            classifier_factory=lambda: classifier,
            lifecycle=lifecycle,
            engine_config=engine_config,
            registry=registry,
            cors=cors,
        )
    )
    return PartnumberServer(bound_port(listeners), lifecycle, registry, classifier)


@pytest.fixture
def scripted_classifier() -> ScriptedClassifier:
    return ScriptedClassifier()


@pytest.fixture
async def pn_server(
    nursery: trio.Nursery, scripted_classifier: ScriptedClassifier
) -> AsyncIterator[PartnumberServer]:
    running = await start_partnumber(nursery, scripted_classifier)
    yield running
    if scripted_classifier.gate is not None:
        scripted_classifier.gate.set()  # never leave a worker thread blocked
    running.lifecycle.stop()
