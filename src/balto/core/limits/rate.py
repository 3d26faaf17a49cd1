"""Token buckets keyed by string, with time passed in. No I/O.

Each key (a client network, an attempted code, the whole server) may spend ``burst`` tokens at
once and regains one every ``refill_s``. While a key's bucket is empty it is refused, with the
time until the next token (``Retry-After``).

The token is taken *before* the work it pays for starts, and given back when the work turns
out not to count (a correct code, a storage failure). Consulting a limit before an ``await`` and
charging it after lets every request that arrives in between through: that is how a burst of
concurrent wrong codes raced past the old limiter. :func:`take_all` charges several limits at
once, all or nothing, with no checkpoint in between.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import math
from collections import OrderedDict
from collections.abc import Sequence

IPV6_NETWORK_BITS = 64  # one IPv6 subscriber usually holds a whole /64


@dataclasses.dataclass(slots=True)
class _Bucket:
    tokens: float
    updated_s: float


class TokenBuckets:
    def __init__(self, name: str, *, burst: int, refill_s: float, max_keys: int = 100_000):
        if burst < 1 or refill_s <= 0:
            raise ValueError("burst must be >= 1 and refill_s > 0")
        self.name = name  # the metric label of refusals
        self.burst = burst
        self.refill_s = refill_s
        self.max_keys = max_keys
        self._buckets: OrderedDict[str, _Bucket] = OrderedDict()

    def retry_after_s(self, key: str, now_s: float) -> int:
        """0 when ``key`` has a token now, else whole seconds until it has."""
        bucket = self._refreshed(key, now_s)
        if bucket is None or bucket.tokens >= 1:
            return 0
        return max(1, math.ceil(round((1 - bucket.tokens) * self.refill_s, 6)))

    def spend(self, key: str, now_s: float) -> None:
        """Take one token from ``key`` (down to zero: check ``retry_after_s`` first)."""
        bucket = self._refreshed(key, now_s)
        if bucket is None:
            bucket = _Bucket(float(self.burst), now_s)
            self._buckets[key] = bucket
            if len(self._buckets) > self.max_keys:
                self._buckets.popitem(last=False)  # bounded memory: forget the stalest key
        bucket.tokens = max(0.0, bucket.tokens - 1)
        self._buckets.move_to_end(key)

    def give_back(self, key: str, now_s: float) -> None:
        """Return a token taken for work that did not count."""
        bucket = self._refreshed(key, now_s)
        if bucket is not None:
            bucket.tokens += 1
            if bucket.tokens >= self.burst:
                del self._buckets[key]

    def _refreshed(self, key: str, now_s: float) -> _Bucket | None:
        bucket = self._buckets.get(key)
        if bucket is None:
            return None
        elapsed = max(0.0, now_s - bucket.updated_s)
        bucket.tokens = min(float(self.burst), bucket.tokens + elapsed / self.refill_s)
        bucket.updated_s = now_s
        if bucket.tokens >= self.burst:
            del self._buckets[key]  # full again: nothing to remember
            return None
        return bucket

    def __len__(self) -> int:
        return len(self._buckets)


Charge = tuple[TokenBuckets, str]


@dataclasses.dataclass(frozen=True, slots=True)
class Refused:
    limit: str  # the name of the limit that refused
    retry_after_s: int


def take_all(charges: Sequence[Charge], now_s: float) -> Refused | None:
    """Take one token from every (limit, key), or none at all: the first empty one refuses."""
    waits = [(buckets.retry_after_s(key, now_s), buckets.name) for buckets, key in charges]
    wait_s, name = max(waits, default=(0, ""))
    if wait_s:
        return Refused(name, wait_s)
    for buckets, key in charges:
        buckets.spend(key, now_s)
    return None


def give_back_all(charges: Sequence[Charge], now_s: float) -> None:
    for buckets, key in charges:
        buckets.give_back(key, now_s)


def network_of(address: str) -> str:
    """The key one client is limited by: its IPv4 address, or its IPv6 /64 (a single IPv6
    host can pick any of 2^64 addresses, so a per-address limit would hold nothing)."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((ip, IPV6_NETWORK_BITS), strict=False))
    return str(ip)
