"""The counter app's rate limits: in this process, or shared by every instance through Redis.

:class:`RateLimits` is what one instance has always done: the core's token buckets on Trio's
clock. Its methods are ``async`` only to share one face with the shared kind; they never
await, so a token is still taken before any checkpoint (see :mod:`balto.core.limits.rate`).

:class:`SharedRateLimits` (``REDIS_URL``) keeps the same buckets, under the same names and
keys, in Redis (:class:`balto.core.redis.buckets.RedisBuckets`), so an attacker spreading
``codigo`` guesses or registrations over N instances gets one budget, not N. When Redis cannot
be reached:

* the registration limits (``codigo``, ``codigo_global``, ``cadastro_cliente``) fail closed:
  503, nothing registered. A 6-digit code is guessable, and falling back to each instance's
  own budget would hand out N budgets exactly when no one is watching; registering a counter
  can wait for Redis, a counter already registered streams on;
* the wrong-``chave_admin`` limit falls back to this instance's own buckets (logged, counted):
  those keys are 256 random bits, the limit only spares the store wasted lookups, and the
  panel of a chain that holds its key must keep working.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import trio

from balto.core.errors import ServiceUnavailable
from balto.core.limits import Charge, Refused, TokenBuckets, give_back_all, take_all
from balto.core.redis.buckets import RedisBuckets
from balto.core.redis.client import Redis, RedisError
from balto.counter.metrics import CounterMetrics

__all__ = ["LOCAL_FALLBACK", "UNAVAILABLE", "RateLimits", "SharedRateLimits"]

log = logging.getLogger(__name__)

#: The limits that fall back to this instance's buckets while Redis is unreachable.
LOCAL_FALLBACK = frozenset({"chave_admin"})
UNAVAILABLE = "Limites compartilhados indisponíveis (Redis inacessível); tente de novo em instantes"


class RateLimits:
    """This instance's own buckets (no ``REDIS_URL``)."""

    async def take_all(self, charges: Sequence[Charge]) -> Refused | None:
        """One token from every charge, or none (the refusal says which and how long)."""
        return take_all(charges, trio.current_time())

    async def give_back_all(self, charges: Sequence[Charge]) -> None:
        give_back_all(charges, trio.current_time())

    async def retry_after_s(self, buckets: TokenBuckets, key: str) -> int:
        return buckets.retry_after_s(key, trio.current_time())

    async def spend(self, buckets: TokenBuckets, key: str) -> None:
        buckets.spend(key, trio.current_time())


class SharedRateLimits(RateLimits):
    """The buckets in Redis, shared by every instance (see the module doc for Redis down)."""

    def __init__(
        self,
        redis: Redis,
        metrics: CounterMetrics,
        *,
        local_fallback: frozenset[str] = LOCAL_FALLBACK,
    ) -> None:
        self.shared = RedisBuckets(redis)
        self.metrics = metrics
        self.local_fallback = local_fallback

    async def take_all(self, charges: Sequence[Charge]) -> Refused | None:
        try:
            return await self.shared.take_all(charges)
        except RedisError as exc:
            self._unavailable(charges, exc)
        return await super().take_all(charges)

    async def give_back_all(self, charges: Sequence[Charge]) -> None:
        try:
            await self.shared.give_back_all(charges)
        except RedisError as exc:
            # The tokens stay spent: the safe side. Refunds happen after the work is done,
            # so the caller's answer does not change.
            log.warning("rate limits: tokens not given back (%s)", exc.message)
            self.metrics.coord_failures.labels("limite").inc()

    async def retry_after_s(self, buckets: TokenBuckets, key: str) -> int:
        try:
            return await self.shared.retry_after_s(buckets, key)
        except RedisError as exc:
            self._unavailable([(buckets, key)], exc)
        return await super().retry_after_s(buckets, key)

    async def spend(self, buckets: TokenBuckets, key: str) -> None:
        try:
            await self.shared.spend(buckets, key)
        except RedisError as exc:
            self._unavailable([(buckets, key)], exc)
            await super().spend(buckets, key)

    def _unavailable(self, charges: Sequence[Charge], exc: RedisError) -> None:
        """Return to fall back to the local buckets; else raise 503 (fail closed)."""
        self.metrics.coord_failures.labels("limite").inc()
        names = {buckets.name for buckets, _ in charges}
        if names <= self.local_fallback:
            log.warning("rate limits %s: local only while Redis is down (%s)", names, exc.message)
            return
        log.warning("rate limits %s: refused while Redis is down (%s)", names, exc.message)
        raise ServiceUnavailable(UNAVAILABLE) from exc
