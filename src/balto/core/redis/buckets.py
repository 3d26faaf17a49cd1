"""Token buckets shared through Redis: the same limits as :mod:`balto.core.limits.rate`, kept in
Redis so that every instance spends from one budget (Trio shell).

Each ``(TokenBuckets, key)`` charge is one Redis hash, ``<prefix>:<name>:<key>``, holding the
tokens left and when they were counted. One Lua script reads and writes all the charges of a
call atomically (Redis runs a script alone), with Redis's own clock (``TIME``), so instances
whose clocks disagree still share one budget and no two instances can both take the last token.
A bucket that would be full again is deleted, and each expires when it would be (memory stays
bounded by the keys being limited right now).

The modes mirror the in-process buckets: ``take`` (every charge or none, else the longest
wait), ``give`` (return a token), ``peek`` (the wait, nothing taken) and ``spend`` (take one,
down to zero). A Redis failure raises :class:`~balto.core.redis.client.RedisError` (503): the
caller decides whether to fail closed.
"""

from __future__ import annotations

from collections.abc import Sequence

from balto.core.limits import Charge, Refused, TokenBuckets
from balto.core.redis.client import Arg, Redis, Script

__all__ = ["RedisBuckets"]

_BUCKETS = Script(
    """
local mode = ARGV[1]
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
local tokens = {}
local wait, which = 0, 0
for i, key in ipairs(KEYS) do
  local burst, refill = tonumber(ARGV[2 * i]), tonumber(ARGV[2 * i + 1])
  local state = redis.call('HMGET', key, 'tokens', 'ms')
  local have = burst
  if state[1] then
    local elapsed = math.max(0, now - tonumber(state[2]))
    have = math.min(burst, tonumber(state[1]) + elapsed / refill)
  end
  tokens[i] = have
  if have < 1 then
    local w = math.max(1, math.ceil(math.floor((1 - have) * refill + 0.5) / 1000))
    if w > wait then wait, which = w, i end
  end
end
if mode == 'peek' or (mode == 'take' and wait > 0) then return {wait, which} end
for i, key in ipairs(KEYS) do
  local burst, refill = tonumber(ARGV[2 * i]), tonumber(ARGV[2 * i + 1])
  local have
  if mode == 'give' then have = tokens[i] + 1 else have = math.max(0, tokens[i] - 1) end
  if have >= burst then
    redis.call('DEL', key)
  else
    redis.call('HSET', key, 'tokens', string.format('%.6f', have), 'ms', now)
    redis.call('PEXPIRE', key, math.ceil((burst - have) * refill) + 1000)
  end
end
return {0, 0}
"""
)


class RedisBuckets:
    def __init__(self, redis: Redis, *, prefix: str = "balto:limite") -> None:
        self.redis = redis
        self.prefix = prefix

    def key(self, buckets: TokenBuckets, key: str) -> str:
        return f"{self.prefix}:{buckets.name}:{key}"

    async def take_all(self, charges: Sequence[Charge]) -> Refused | None:
        """Take one token from every charge, or none: the longest wait refuses."""
        wait_s, which = await self._run("take", charges)
        return Refused(charges[which - 1][0].name, wait_s) if wait_s else None

    async def give_back_all(self, charges: Sequence[Charge]) -> None:
        await self._run("give", charges)

    async def retry_after_s(self, buckets: TokenBuckets, key: str) -> int:
        """0 when the bucket has a token now, else whole seconds until it has."""
        wait_s, _ = await self._run("peek", [(buckets, key)])
        return wait_s

    async def spend(self, buckets: TokenBuckets, key: str) -> None:
        await self._run("spend", [(buckets, key)])

    async def _run(self, mode: str, charges: Sequence[Charge]) -> tuple[int, int]:
        if not charges:
            return 0, 0
        keys = [self.key(buckets, key) for buckets, key in charges]
        args: list[Arg] = [mode]
        for buckets, _ in charges:
            args += [buckets.burst, round(buckets.refill_s * 1000, 3)]
        wait_s, which = await _BUCKETS(self.redis, keys, args)
        return int(wait_s), int(which)
