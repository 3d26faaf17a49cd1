"""The per-socket audio intake: a bounded ring buffer between the receiver and recognition.

The receiver never waits on recognition: when recognition falls behind, the ring drops the
oldest unprocessed audio (counted), so memory stays bounded whatever the peer sends.
"""

from __future__ import annotations

import numpy as np
import trio

from balto.counter.audio.ring import AudioRing
from balto.counter.audio.types import SAMPLE_RATE_HZ, Audio


class AudioIntake:
    def __init__(self, capacity_samples: int) -> None:
        self._ring = AudioRing(capacity_samples)
        self._ready = trio.Event()

    def put(self, samples: Audio) -> int:
        """Store ``samples``; return how many old samples were dropped to make room."""
        if not len(samples):
            return 0
        dropped = self._ring.write(samples)
        self._ready.set()
        return dropped

    @property
    def backlog_s(self) -> float:
        """Audio received and not yet taken."""
        return len(self._ring) / SAMPLE_RATE_HZ

    async def take(self) -> Audio:
        """Wait for audio, then return all of it (one consumer)."""
        while not len(self._ring):
            self._ready = trio.Event()
            await self._ready.wait()
        return np.asarray(self._ring.read(), dtype=np.float32)
