"""``balto partnumber worker``: a classification worker on the Redis stream (Trio).

One task at a time (the classifier is CPU-bound): take an entry abandoned by a dead worker
(``XAUTOCLAIM``, idle for ``claim_idle_s``) or else wait for a new one (``XREADGROUP``); load
the task, classify it in a thread, store and publish each step and the result
(:meth:`~balto.partnumber.queue.TaskQueue.transition`), and only then acknowledge the entry.
Delivery is at-least-once: a worker killed mid-task leaves its entry pending, and another one
claims it once it has been idle ``claim_idle_s``; a live worker keeps its entry's idle time
low (``XCLAIM ... JUSTID`` every third of it) so a long classification is not taken from it.
Whatever happens, the result is stored and published once (the transitions compare-and-set).

On :meth:`StreamWorker.drain` (``SIGTERM``) the worker takes no new task and finishes the one
it holds. Each task is one isolated job: a classifier bug fails that task; a Redis failure
leaves the entry pending (it is retried) and the worker goes on after a pause.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import uuid
from collections.abc import Callable

import trio

from balto.core.errors import BaltoError
from balto.core.isolation import Boundary
from balto.core.redis.client import RedisError
from balto.partnumber.classify.models import Classification, Progress
from balto.partnumber.queue import StreamEntry, TaskQueue
from balto.partnumber.tasks import Task
from balto.partnumber.worker import INTERNAL_FAILURE, ClassifierLike

__all__ = ["DEFAULT_CLAIM_IDLE_S", "StreamWorker", "consumer_name"]

log = logging.getLogger(__name__)

DEFAULT_CLAIM_IDLE_S = 30.0
REDIS_RETRY_S = 1.0


def consumer_name() -> str:
    """Unique per process: ``host-pid-random``."""
    return f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"


class StreamWorker:
    def __init__(
        self,
        queue: TaskQueue,
        classifier: ClassifierLike,
        *,
        boundary: Boundary,
        claim_idle_s: float = DEFAULT_CLAIM_IDLE_S,
        consumer: str | None = None,
    ) -> None:
        self.queue = queue
        self.classifier = classifier
        self.claim_idle_s = claim_idle_s
        self.consumer = consumer or consumer_name()
        self.completed = 0
        self._boundary = boundary
        self._limiter = trio.CapacityLimiter(1)
        self._draining = False
        self._idle = trio.Event()
        self._idle.set()

    async def drain(self) -> None:
        """Take no more tasks; return once the one being classified, if any, is stored."""
        self._draining = True
        await self._idle.wait()

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        await self.queue.ensure_group()
        task_status.started()
        log.info("partnumber worker %s waiting for tasks", self.consumer)
        while True:
            try:
                async with self.queue.redis.dedicated() as connection:
                    while not self._draining:
                        entries = await self.queue.claim_abandoned(self.consumer, self.claim_idle_s)
                        if not entries:
                            entries = await self.queue.read_new(
                                connection, self.consumer, self.claim_idle_s / 2
                            )
                        for entry in entries:
                            await self._job(entry)
                    return
            except RedisError as exc:
                log.warning("partnumber worker: %s; trying again", exc.message)
            await trio.sleep(REDIS_RETRY_S)
            with contextlib.suppress(RedisError):  # Redis lost its data (restarted empty)?
                await self.queue.ensure_group()  # if it is still down, the loop says so

    async def _job(self, entry: StreamEntry) -> None:
        self._idle = trio.Event()
        try:
            await self._isolated_job(entry)
        finally:
            self._idle.set()

    async def _isolated_job(self, entry: StreamEntry) -> None:
        """One entry, isolated; a Redis failure propagates (the entry stays pending)."""
        redis_failure: RedisError | None = None
        with self._boundary.guard("classification_job", entry.task_id) as guard:
            try:
                await self._process(entry)
            except RedisError as exc:
                redis_failure = exc
        if redis_failure is not None:
            raise redis_failure
        if guard.crashed is not None:
            now = trio.current_time()
            await self.queue.transition(
                entry.task_id, lambda r, t: r.fail(t.task_id, INTERNAL_FAILURE, now)
            )
            await self.queue.done(entry)

    async def _process(self, entry: StreamEntry) -> None:
        stored = await self.queue.load(entry.task_id)
        if stored is None or stored.task.ended:  # expired, or finished by a worker that died
            await self.queue.done(entry)  # before acknowledging
            return
        log.info("task %s: classifying %s", entry.task_id, stored.task.request.partnumber)
        async with trio.open_nursery() as nursery:
            nursery.start_soon(self._heartbeat, entry)
            outcome = await self._classify(stored.task)
            nursery.cancel_scope.cancel()
        now = trio.current_time()
        if isinstance(outcome, Classification):
            result = outcome
            await self.queue.transition(
                entry.task_id, lambda r, t: r.finish(t.task_id, result, now)
            )
        else:
            message = f"Falha na classificação: {outcome}"
            await self.queue.transition(entry.task_id, lambda r, t: r.fail(t.task_id, message, now))
        await self.queue.done(entry)
        self.completed += 1

    async def _classify(self, task: Task) -> Classification | str:
        """The classification, or why it failed (a :class:`BaltoError` of the classifier)."""

        async def store_progress(progress: Progress) -> None:
            await self.queue.transition(task.task_id, lambda r, t: r.progress(t.task_id, progress))

        def report(progress: Progress) -> None:  # on the worker thread: wait until stored
            trio.from_thread.run(store_progress, progress)

        classify: Callable[..., Classification] = self.classifier.classify
        try:
            return await trio.to_thread.run_sync(
                classify, task.request, report, limiter=self._limiter
            )
        except RedisError:
            raise
        except BaltoError as exc:
            log.warning("classification of %s failed: %s", task.request.partnumber, exc.message)
            return exc.message

    async def _heartbeat(self, entry: StreamEntry) -> None:
        while True:
            await trio.sleep(self.claim_idle_s / 3)
            await self.queue.heartbeat(entry, self.consumer)
