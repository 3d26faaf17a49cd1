"""A bounded float32 ring buffer that drops the oldest unread audio when full."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from balto.counter.audio.types import Audio


class AudioRing:
    """Fixed-capacity FIFO of float32 samples; never grows, never blocks.

    ``write`` makes room by discarding the oldest unread samples and reports how many it
    discarded (a chunk larger than the whole capacity loses its own oldest samples too).
    """

    def __init__(self, capacity_samples: int) -> None:
        if capacity_samples <= 0:
            raise ValueError("capacity_samples must be positive")
        self.capacity = capacity_samples
        self._buf: Audio = np.zeros(capacity_samples, dtype=np.float32)
        self._head = 0  # index of the oldest unread sample
        self._size = 0
        self.dropped_total = 0
        self.written_total = 0

    def __len__(self) -> int:
        return self._size

    @property
    def free(self) -> int:
        return self.capacity - self._size

    def write(self, samples: npt.ArrayLike) -> int:
        data = np.asarray(samples, dtype=np.float32).reshape(-1)
        n = len(data)
        self.written_total += n
        dropped = 0
        if n >= self.capacity:
            dropped = self._size + (n - self.capacity)
            data = data[n - self.capacity :]
            self._head = 0
            self._size = 0
            n = self.capacity
        elif n > self.free:
            dropped = n - self.free
            self._head = (self._head + dropped) % self.capacity
            self._size -= dropped
        tail = (self._head + self._size) % self.capacity
        first = min(n, self.capacity - tail)
        self._buf[tail : tail + first] = data[:first]
        self._buf[: n - first] = data[first:]
        self._size += n
        self.dropped_total += dropped
        return dropped

    def read(self, max_samples: int | None = None) -> Audio:
        """Remove and return up to ``max_samples`` of the oldest samples (all when None)."""
        n = self._size if max_samples is None else max(0, min(max_samples, self._size))
        first = min(n, self.capacity - self._head)
        out = np.empty(n, dtype=np.float32)
        out[:first] = self._buf[self._head : self._head + first]
        out[first:] = self._buf[: n - first]
        self._head = (self._head + n) % self.capacity
        self._size -= n
        if self._size == 0:
            self._head = 0
        return out

    def clear(self) -> None:
        self._head = 0
        self._size = 0
