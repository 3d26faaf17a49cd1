"""The tasks' Redis store against a real redis-server: the queue bound, the compare-and-set
transitions (a result is stored and published once), acknowledgement and claiming."""

from __future__ import annotations

import trio

from balto.core.redis.client import PubSub, open_redis
from balto.partnumber.classify.models import ClassifyRequest, Progress
from balto.partnumber.queue import TaskQueue
from balto.partnumber.tasks import FINISHED_EVENT, TaskRegistry
from balto.socketio.fanout import decode_room_message
from tests.partnumber.test_joins import result


def new_task(registry: TaskRegistry):
    return registry.create(ClassifyRequest("PN-1", "Notebook"), 1.0)


async def test_enqueue_stops_at_the_bound(redis_url: str):
    async with open_redis(redis_url) as redis:
        queue, registry = TaskQueue(redis), TaskRegistry()
        assert await queue.enqueue(new_task(registry), max_queued=2)
        assert await queue.enqueue(new_task(registry), max_queued=2)
        extra = new_task(registry)
        assert not await queue.enqueue(extra, max_queued=2)
        assert await queue.load(extra.task_id) is None and await queue.outstanding() == 2


async def test_two_workers_finishing_one_task_publish_one_result(redis_url: str):
    async with open_redis(redis_url) as redis:
        queue, task = TaskQueue(redis), new_task(TaskRegistry())
        await queue.enqueue(task, max_queued=10)
        async with PubSub.open(redis.address) as sub:
            await sub.subscribe(queue.channel)
            step = await queue.transition(
                task.task_id, lambda r, t: r.progress(t.task_id, Progress(1, 3, "um"))
            )
            assert step is not None and step.seq == 1
            outcomes = []

            async def finish() -> None:
                outcomes.append(
                    await queue.transition(
                        task.task_id, lambda r, t: r.finish(t.task_id, result(), 2)
                    )
                )

            async with trio.open_nursery() as nursery:
                for _ in range(5):
                    nursery.start_soon(finish)
            assert sum(o is not None for o in outcomes) == 1
            received = []
            with trio.move_on_after(0.5):
                async for _channel, data in sub.messages():
                    received.append(decode_room_message(data))
        assert [(m.event, m.seq) for m in received][-1] == (FINISHED_EVENT, 2)
        assert sum(m.event == FINISHED_EVENT for m in received) == 1
        loaded = await queue.load(task.task_id)
        assert loaded is not None and loaded.task.ended and loaded.seq == 2
        assert await redis.execute("TTL", queue.task_key(task.task_id)) > 0


async def test_an_entry_left_by_a_dead_consumer_is_claimed(redis_url: str):
    async with open_redis(redis_url) as redis:
        queue, task = TaskQueue(redis), new_task(TaskRegistry())
        await queue.ensure_group()
        await queue.ensure_group()  # BUSYGROUP is fine
        await queue.enqueue(task, max_queued=10)
        async with redis.dedicated() as connection:
            (entry,) = await queue.read_new(connection, "morto", 0.1)
            assert await queue.read_new(connection, "vivo", 0.05) == []
        assert entry.task_id == task.task_id
        assert await queue.claim_abandoned("vivo", 10) == []  # not idle long enough
        await trio.sleep(0.05)
        (claimed,) = await queue.claim_abandoned("vivo", 0.02)
        assert claimed == entry
        await queue.done(claimed)
        assert await queue.outstanding() == 0
        assert await queue.claim_abandoned("outro", 0) == []


async def test_a_foreign_entry_is_acknowledged_not_left_pending(redis_url: str):
    async with open_redis(redis_url) as redis:
        queue = TaskQueue(redis)
        await queue.ensure_group()
        await redis.execute("XADD", queue.stream, "*", "outro", "campo")
        async with redis.dedicated() as connection:
            (entry,) = await queue.read_new(connection, "w", 0.1)
        assert entry.task_id == "" and await queue.load(entry.task_id) is None
        await queue.done(entry)  # what the worker does with a task it cannot find
        assert await queue.outstanding() == 0
