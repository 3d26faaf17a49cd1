"""The classification worker: a bounded queue of tasks, one classification at a time.

The classifier is blocking and CPU-bound, so it runs in a Trio worker thread (capacity 1). Its
progress callbacks arrive on that thread and are handed to Trio with
:func:`trio.from_thread.run_sync`, where the registry turns them into emissions that go straight
to the task's Socket.IO room through the :class:`Emitter` (no callback back up through the app).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, Protocol

import trio

from balto.core.errors import BaltoError, TooManyRequests
from balto.core.isolation import Boundary
from balto.partnumber.classify.models import Classification, ClassifyRequest, Progress
from balto.partnumber.config import DEFAULT_MAX_QUEUED_TASKS
from balto.partnumber.tasks import Emission, Task, TaskRegistry

__all__ = ["ClassificationWorker", "ClassifierLike", "Emitter"]

log = logging.getLogger(__name__)

DEFAULT_QUEUE_SIZE = DEFAULT_MAX_QUEUED_TASKS
QUEUE_FULL_RETRY_S = 5
INTERNAL_FAILURE = "Erro interno ao classificar o partnumber"


class ClassifierLike(Protocol):
    """What the service needs from :class:`balto.partnumber.classify.Classifier`."""

    def classify(
        self, request: ClassifyRequest, progress: Callable[[Progress], None]
    ) -> Classification: ...


class Emitter(Protocol):
    """Where task events go: the Socket.IO facade (:class:`~balto.socketio.shell.SocketIOShell`)."""

    def emit(self, event: str, *args: Any, to: str | None = None) -> None: ...


class ClassificationWorker:
    def __init__(
        self,
        classifier: ClassifierLike,
        registry: TaskRegistry,
        emitter: Emitter,
        *,
        boundary: Boundary,
        queue_size: int = DEFAULT_QUEUE_SIZE,
    ) -> None:
        self._boundary = boundary
        self._classifier = classifier
        self._registry = registry
        self._emitter = emitter
        self._send, self._receive = trio.open_memory_channel[str](queue_size)
        self._limiter = trio.CapacityLimiter(1)

    @property
    def queued(self) -> int:
        return self._send.statistics().current_buffer_used

    def submit(self, task: Task) -> None:
        """Queue ``task``; a full queue is a 429 and the task is forgotten."""
        try:
            self._send.send_nowait(task.task_id)
        except trio.WouldBlock:
            self._registry.discard(task.task_id)
            raise TooManyRequests(
                "Fila de classificação cheia; tente novamente em instantes",
                retry_after_s=QUEUE_FULL_RETRY_S,
            ) from None

    async def run(self) -> None:
        async with self._receive:
            async for task_id in self._receive:
                # One task is one isolated job: whatever breaks in it fails that task alone.
                with self._boundary.guard("classification_job", task_id) as guard:
                    await self._process(task_id)
                if guard.crashed is not None:
                    self._fail_crashed(task_id)

    def _fail_crashed(self, task_id: str) -> None:
        task = self._registry.get(task_id)
        if task is None or task.ended:
            return
        with self._boundary.guard("classification_job", task_id):
            self._publish(task, self._registry.fail(task_id, INTERNAL_FAILURE, trio.current_time()))

    async def _process(self, task_id: str) -> None:
        task = self._registry.get(task_id)
        if task is None:
            return
        self._registry.start(task_id)

        def report(progress: Progress) -> None:  # on the worker thread
            trio.from_thread.run_sync(self._on_progress, task, progress)

        try:
            result = await trio.to_thread.run_sync(
                self._classifier.classify, task.request, report, limiter=self._limiter
            )
        except BaltoError as exc:
            log.warning("classification of %s failed: %s", task.request.partnumber, exc.message)
            emissions = self._registry.fail(
                task_id, f"Falha na classificação: {exc.message}", trio.current_time()
            )
        else:
            emissions = self._registry.finish(task_id, result, trio.current_time())
        self._publish(task, emissions)

    def _on_progress(self, task: Task, progress: Progress) -> None:
        self._publish(task, self._registry.progress(task.task_id, progress))

    def _publish(self, task: Task, emissions: list[Emission]) -> None:
        for event, payload in emissions:
            self._emitter.emit(event, payload, to=task.room_id)
