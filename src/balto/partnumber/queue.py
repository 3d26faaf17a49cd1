"""The tasks in Redis: records, the work stream and its consumer group (Trio).

Keys (``prefix`` ``balto:pn`` by default):

* ``{prefix}:task:<task_id>``: a hash, ``seq`` (transitions so far) and ``record`` (the task's
  JSON, :mod:`balto.partnumber.records`); ``{prefix}:room:<room_id>``: the task id. Both
  expire ``ttl_s`` after the last transition.
* ``{prefix}:tasks``: the stream of task ids to classify, read by the workers' consumer group
  ``{prefix}:workers``. An entry is acknowledged and deleted once its task ended and its
  result is stored, so the stream's length is the work not done yet.
* ``{prefix}:sio``: the pub/sub channel of the tasks' room messages
  (:mod:`balto.socketio.fanout`), which every instance delivers to its local sockets.

Every write is one Lua script, so each is atomic: :meth:`TaskQueue.enqueue` stores the task and
adds it to the stream unless the stream is full; :meth:`TaskQueue.transition` stores a
transition only over the ``seq`` it was computed from, and publishes its events in the same
step (a task's ``classification_finished`` is published once, whatever the workers do).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

from balto.core.redis.client import Arg, Connection, Redis, RedisError, RedisReplyError, Script
from balto.partnumber.records import StoredTask, decode_task, encode_task, room_messages
from balto.partnumber.tasks import Emission, Task, TaskRegistry
from balto.socketio.fanout import encode_room_message

__all__ = ["DEFAULT_TASK_TTL_S", "StreamEntry", "TaskQueue", "TransitionConflict"]

DEFAULT_TASK_TTL_S = 3600.0
MAX_CAS_ATTEMPTS = 20

_ENQUEUE = Script(
    """
if redis.call('XLEN', KEYS[3]) >= tonumber(ARGV[3]) then return 0 end
redis.call('HSET', KEYS[1], 'seq', 0, 'record', ARGV[1])
redis.call('EXPIRE', KEYS[1], ARGV[2])
redis.call('SET', KEYS[2], ARGV[4], 'EX', ARGV[2])
redis.call('XADD', KEYS[3], '*', 'task_id', ARGV[4])
return 1
"""
)

_TRANSITION = Script(
    """
local seq = redis.call('HGET', KEYS[1], 'seq')
if not seq then return -1 end
if tonumber(seq) ~= tonumber(ARGV[1]) then return 0 end
redis.call('HSET', KEYS[1], 'seq', tonumber(ARGV[1]) + 1, 'record', ARGV[2])
redis.call('EXPIRE', KEYS[1], ARGV[3])
redis.call('EXPIRE', KEYS[2], ARGV[3])
for i = 5, #ARGV do redis.call('PUBLISH', ARGV[4], ARGV[i]) end
return 1
"""
)


class TransitionConflict(RedisError):
    """The record kept changing under us (never expected: one worker per task at a time)."""


@dataclasses.dataclass(frozen=True, slots=True)
class StreamEntry:
    entry_id: bytes
    task_id: str


def _ttl(seconds: float) -> int:
    return max(1, round(seconds))


class TaskQueue:
    def __init__(
        self, redis: Redis, *, ttl_s: float = DEFAULT_TASK_TTL_S, prefix: str = "balto:pn"
    ):
        self.redis = redis
        self.ttl_s = ttl_s
        self.stream = f"{prefix}:tasks"
        self.group = f"{prefix}:workers"
        self.channel = f"{prefix}:sio"
        self._prefix = prefix

    def task_key(self, task_id: str) -> str:
        return f"{self._prefix}:task:{task_id}"

    def room_key(self, room_id: str) -> str:
        return f"{self._prefix}:room:{room_id}"

    # -- the instances' side ---------------------------------------------------------------

    async def enqueue(self, task: Task, max_queued: int) -> bool:
        """Store ``task`` and queue it for the workers; False (nothing stored) when
        ``max_queued`` tasks are already waiting or running."""
        keys = [self.task_key(task.task_id), self.room_key(task.room_id), self.stream]
        args: list[Arg] = [encode_task(task), _ttl(self.ttl_s), max_queued, task.task_id]
        return bool(await _ENQUEUE(self.redis, keys, args) == 1)

    async def load(self, task_id: str) -> StoredTask | None:
        reply = await self.redis.execute("HMGET", self.task_key(task_id), "seq", "record")
        seq, record = reply
        if seq is None or record is None:
            return None
        return StoredTask(decode_task(record), int(seq))

    async def load_room(self, room_id: str) -> StoredTask | None:
        task_id = await self.redis.execute("GET", self.room_key(room_id))
        return None if task_id is None else await self.load(task_id.decode())

    async def outstanding(self) -> int:
        """Tasks queued or running (the stream's length)."""
        length: int = await self.redis.execute("XLEN", self.stream)
        return length

    # -- the workers' side -----------------------------------------------------------------

    async def transition(
        self, task_id: str, step: Callable[[TaskRegistry, Task], list[Emission]]
    ) -> StoredTask | None:
        """Apply ``step`` (a :class:`TaskRegistry` transition) to the stored task and publish
        its emissions, atomically. ``None`` when there was nothing to do: the task is gone, or
        the transition emits nothing (it had ended already)."""
        for _ in range(MAX_CAS_ATTEMPTS):
            stored = await self.load(task_id)
            if stored is None:
                return None
            registry = TaskRegistry()
            registry.adopt(stored.task)
            emissions = step(registry, stored.task)
            if not emissions:
                return None
            seq = stored.seq + 1
            messages = [encode_room_message(m) for m in room_messages(stored.task, emissions, seq)]
            keys = [self.task_key(task_id), self.room_key(stored.task.room_id)]
            args: list[Arg] = [stored.seq, encode_task(stored.task), _ttl(self.ttl_s)]
            done = await _TRANSITION(self.redis, keys, [*args, self.channel, *messages])
            if done == 1:
                return StoredTask(stored.task, seq)
            if done == -1:
                return None
        raise TransitionConflict(f"tarefa {task_id}: transição disputada demais")

    async def ensure_group(self) -> None:
        """Create the consumer group (and the stream) unless they exist."""
        try:
            await self.redis.execute("XGROUP", "CREATE", self.stream, self.group, "0", "MKSTREAM")
        except RedisReplyError as exc:
            if exc.code != "BUSYGROUP":
                raise

    async def done(self, entry: StreamEntry) -> None:
        """The task's result is stored: acknowledge its entry and delete it."""
        await self.redis.execute("XACK", self.stream, self.group, entry.entry_id)
        await self.redis.execute("XDEL", self.stream, entry.entry_id)

    async def heartbeat(self, entry: StreamEntry, consumer: str) -> None:
        """Still working on ``entry``: reset its idle time, so no one claims it."""
        await self.redis.execute(
            "XCLAIM", self.stream, self.group, consumer, 0, entry.entry_id, "JUSTID"
        )

    async def claim_abandoned(self, consumer: str, min_idle_s: float) -> list[StreamEntry]:
        """Take over an entry another worker got and left idle ``min_idle_s`` (it died)."""
        reply = await self.redis.execute(
            "XAUTOCLAIM",
            self.stream,
            self.group,
            consumer,
            round(min_idle_s * 1000),
            "0-0",
            "COUNT",
            1,
        )
        return _entries(reply[1])

    async def read_new(
        self, connection: Connection, consumer: str, block_s: float
    ) -> list[StreamEntry]:
        """Wait up to ``block_s`` for a new entry (on a connection of its own: it blocks)."""
        reply = await connection.execute(
            "XREADGROUP",
            "GROUP",
            self.group,
            consumer,
            "COUNT",
            1,
            "BLOCK",
            max(1, round(block_s * 1000)),
            "STREAMS",
            self.stream,
            ">",
            timeout_s=block_s + 10,
        )
        if reply is None:
            return []
        return [entry for _stream, raw in reply for entry in _entries(raw)]


def _entries(raw: Any) -> list[StreamEntry]:
    """``[[id, [field, value, ...]], ...]`` → the entries; one without a task id (not ours)
    gets ``""``, a task no one finds: the worker acknowledges it instead of leaving it pending
    forever."""
    entries = []
    for item in raw or ():
        if not isinstance(item, list) or len(item) != 2 or not isinstance(item[1], list):
            continue  # an entry deleted meanwhile
        entry_id, fields = item
        values = dict(zip(fields[::2], fields[1::2], strict=True))
        task_id = values.get(b"task_id")
        if isinstance(entry_id, bytes):
            name = task_id.decode(errors="replace") if isinstance(task_id, bytes) else ""
            entries.append(StreamEntry(entry_id, name))
    return entries
