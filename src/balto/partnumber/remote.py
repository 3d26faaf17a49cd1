"""Tasks in Redis, run by ``balto partnumber worker`` processes (``REDIS_URL`` set).

An instance stores and queues the tasks it accepts (:class:`~balto.partnumber.queue.TaskQueue`),
answers ``GET /tasks/<id>`` from Redis, and delivers every task event published on the
channel (by any worker) to its own sockets in the task's room
(:class:`~balto.socketio.redis_fanout.RedisFanout`). A ``join`` is completed by a reader task
(:mod:`balto.partnumber.joins` merges the stored replay with the live events); joins waiting
for one are bounded, and a socket beyond the bound gets an error answer.
"""

from __future__ import annotations

import logging
import time
import uuid
from typing import Any

import trio

from balto.core.errors import ServiceUnavailable, TooManyRequests
from balto.core.isolation import Boundary
from balto.core.redis.client import RedisError
from balto.partnumber.classify.models import ClassifyRequest
from balto.partnumber.joins import PendingJoins
from balto.partnumber.queue import TaskQueue
from balto.partnumber.records import BadRecord, StoredTask
from balto.partnumber.tasks import Emission, Task
from balto.partnumber.worker import QUEUE_FULL_RETRY_S
from balto.socketio.fanout import RoomMessage
from balto.socketio.redis_fanout import RedisFanout
from balto.socketio.shell import SocketIOShell

__all__ = ["JOIN_READERS", "RedisTasks"]

log = logging.getLogger(__name__)

JOIN_READERS = 4  # tasks reading the records of joined rooms
JOIN_SETTLE_S = 0.5  # a record ahead of the channel: wait this long for its events


class RedisTasks:
    def __init__(
        self,
        queue: TaskQueue,
        shell: SocketIOShell,
        *,
        boundary: Boundary,
        max_queued: int,
    ) -> None:
        self.queue = queue
        self.shell = shell
        self.max_queued = max_queued
        self.fanout = RedisFanout(queue.redis, queue.channel, boundary=boundary)
        self.pending = PendingJoins()
        self._boundary = boundary
        self._joins_in, self._joins_out = trio.open_memory_channel[tuple[str, str]](
            self.pending.max_pending
        )

    async def submit(self, request: ClassifyRequest, socket_session_id: str | None) -> Task:
        task = Task(str(uuid.uuid4()), str(uuid.uuid4()), request, time.time(), socket_session_id)
        if not await self.queue.enqueue(task, self.max_queued):
            raise TooManyRequests(
                "Fila de classificação cheia; tente novamente em instantes",
                retry_after_s=QUEUE_FULL_RETRY_S,
            )
        return task

    async def snapshot(self, task_id: str) -> dict[str, Any] | None:
        stored = await self.queue.load(task_id)
        return None if stored is None else stored.task.snapshot()

    def join(self, sid: str, room: str) -> None:
        if room in self.shell.rooms_of(sid) or (sid, room) in self.pending:
            return  # already receiving the live events (or about to)
        if not self.pending.begin(sid, room):
            raise ServiceUnavailable("Muitas inscrições pendentes; tente novamente")
        self._joins_in.send_nowait((sid, room))  # never full: as large as the pending bound

    async def health(self) -> tuple[bool, dict[str, Any]]:
        redis_ok = await self.queue.redis.ping()
        queued: int | None = None
        if redis_ok:
            try:
                queued = await self.queue.outstanding()
            except RedisError:
                redis_ok = False
        subscribed = self.fanout.subscribed  # else live events are lost: take us out
        return redis_ok and subscribed, {
            "redis": "ok" if redis_ok else "indisponível",
            "redis_pubsub": "ok" if subscribed else "reconectando",
            "queued": queued,
        }

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        """Deliver the channel's messages and complete joins; started once subscribed."""
        async with trio.open_nursery() as nursery:
            await nursery.start(self.fanout.run, self._deliver)
            for _ in range(JOIN_READERS):
                nursery.start_soon(self._read_joins, nursery)
            task_status.started()

    def _deliver(self, message: RoomMessage) -> None:
        self.shell.emit(message.event, *message.args, to=message.room)
        for sid, room, emissions in self.pending.delivered(message):
            self._complete(sid, room, emissions)

    def _complete(self, sid: str, room: str, emissions: list[Emission]) -> None:
        """Send the join's emissions and enter the room, in one step (see joins module doc)."""
        if sid not in self.shell.server.sids:
            return  # gone meanwhile
        for event, payload in emissions:
            self.shell.emit(event, payload, to=sid)
        self.shell.enter_room(sid, room)

    async def _read_joins(self, nursery: trio.Nursery) -> None:
        async for sid, room in self._joins_out:
            with self._boundary.guard("socketio_join", sid):
                emissions = self.pending.resolve(sid, room, await self._load_room(room))
                if emissions is None:
                    nursery.start_soon(self._settle_later, sid, room)
                else:
                    self._complete(sid, room, emissions)

    async def _settle_later(self, sid: str, room: str) -> None:
        await trio.sleep(JOIN_SETTLE_S)
        emissions = self.pending.expire(sid, room)
        if emissions is not None:
            self._complete(sid, room, emissions)

    async def _load_room(self, room: str) -> StoredTask | None:
        try:
            return await self.queue.load_room(room)
        except (RedisError, BadRecord) as exc:  # the live events still come; no replay
            log.warning("join %s: %s", room, exc.message)
            return None
