"""Token buckets in a real redis-server: the in-process semantics, shared by every client."""

from __future__ import annotations

import trio

from balto.core.limits import TokenBuckets
from balto.core.redis.buckets import RedisBuckets
from balto.core.redis.client import open_redis


async def test_take_all_is_all_or_nothing_across_clients(redis_url: str) -> None:
    per_client = TokenBuckets("client", burst=2, refill_s=10)
    everyone = TokenBuckets("all", burst=3, refill_s=10)
    async with open_redis(redis_url) as one, open_redis(redis_url) as other:
        a, b = RedisBuckets(one), RedisBuckets(other)  # two instances, one budget
        charges = [(per_client, "a"), (everyone, "*")]
        assert await a.take_all(charges) is None
        assert await b.take_all(charges) is None
        refused = await a.take_all(charges)
        assert refused is not None and (refused.limit, refused.retry_after_s) == ("client", 10)
        # the refused attempt took nothing from the global bucket
        assert await b.take_all([(per_client, "b"), (everyone, "*")]) is None
        refused = await a.take_all([(per_client, "c"), (everyone, "*")])
        assert refused is not None and refused.limit == "all"
        assert await one.execute("PTTL", "balto:limite:all:*") > 0  # it expires when full


async def test_give_back_peek_and_spend(redis_url: str) -> None:
    buckets = TokenBuckets("client", burst=1, refill_s=60)
    async with open_redis(redis_url) as redis:
        shared = RedisBuckets(redis)
        assert await shared.take_all([(buckets, "a")]) is None
        assert await shared.retry_after_s(buckets, "a") == 60
        await shared.give_back_all([(buckets, "a")])
        assert await redis.execute("EXISTS", "balto:limite:client:a") == 0  # full: forgotten
        assert await shared.retry_after_s(buckets, "a") == 0
        await shared.spend(buckets, "a")
        await shared.spend(buckets, "a")  # down to zero, never below
        assert 59 <= await shared.retry_after_s(buckets, "a") <= 60
        await shared.give_back_all([(buckets, "a")])
        assert await shared.take_all([(buckets, "a")]) is None


async def test_tokens_refill_with_redis_time(redis_url: str) -> None:
    buckets = TokenBuckets("client", burst=1, refill_s=0.2)
    async with open_redis(redis_url) as redis:
        shared = RedisBuckets(redis)
        assert await shared.take_all([(buckets, "a")]) is None
        assert await shared.take_all([(buckets, "a")]) is not None
        await trio.sleep(0.25)
        assert await shared.take_all([(buckets, "a")]) is None


async def test_concurrent_takes_never_overspend(redis_url: str) -> None:
    buckets = TokenBuckets("code", burst=5, refill_s=60)
    taken: list[bool] = []
    async with open_redis(redis_url) as one, open_redis(redis_url) as other:

        async def attempt(shared: RedisBuckets) -> None:
            taken.append(await shared.take_all([(buckets, "123456")]) is None)

        async with trio.open_nursery() as nursery:
            for i in range(20):
                nursery.start_soon(attempt, RedisBuckets(one if i % 2 else other))
    assert taken.count(True) == 5
