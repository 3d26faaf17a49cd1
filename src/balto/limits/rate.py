"""Token buckets keyed by string, charged on failures only, with time passed in.

``FailureLimiter`` guards guessable secrets (the 6-digit codigo): each key (a client address,
an attempted code) may fail ``burst`` times at once and regains one attempt every
``refill_s``. While a key's bucket is empty every request for it is refused, with the time
until the next attempt (``Retry-After``).
"""

from __future__ import annotations

import dataclasses
import math
from collections import OrderedDict


@dataclasses.dataclass(slots=True)
class _Bucket:
    tokens: float
    updated_s: float


class FailureLimiter:
    def __init__(self, *, burst: int, refill_s: float, max_keys: int = 100_000) -> None:
        if burst < 1 or refill_s <= 0:
            raise ValueError("burst must be >= 1 and refill_s > 0")
        self.burst = burst
        self.refill_s = refill_s
        self.max_keys = max_keys
        self._buckets: OrderedDict[str, _Bucket] = OrderedDict()

    def retry_after_s(self, key: str, now_s: float) -> int:
        """0 when ``key`` may try now, else whole seconds until it may."""
        bucket = self._refreshed(key, now_s)
        if bucket is None or bucket.tokens >= 1:
            return 0
        return max(1, math.ceil((1 - bucket.tokens) * self.refill_s))

    def failed(self, key: str, now_s: float) -> None:
        bucket = self._refreshed(key, now_s)
        if bucket is None:
            bucket = _Bucket(float(self.burst), now_s)
            self._buckets[key] = bucket
            if len(self._buckets) > self.max_keys:
                self._buckets.popitem(last=False)  # bounded memory: forget the stalest key
        bucket.tokens = max(0.0, bucket.tokens - 1)
        self._buckets.move_to_end(key)

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
