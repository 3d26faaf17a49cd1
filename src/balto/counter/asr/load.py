"""How busy the whisper pool has been lately, without I/O: time in, a level and a verdict out.

The level is the fraction of the pool's workers that were decoding, averaged with an
exponential forgetting of time constant ``tau_s`` (exact for a signal that only changes at
the reported instants: between two reports the fraction stood still). The verdict ``busy`` has
hysteresis: it turns on when the level reaches ``high`` and off only when it falls to
``low``, so counters do not flip their decode policy at every job.
"""

from __future__ import annotations

import math

DEFAULT_TAU_S = 5.0
RELEASE_FACTOR = 0.6  # busy ends below this fraction of the level that started it


class LoadGauge:
    def __init__(self, *, high: float, low: float | None = None, tau_s: float = DEFAULT_TAU_S):
        if tau_s <= 0:
            raise ValueError("tau_s must be positive")
        if not 0 < high <= 1:
            raise ValueError("high must lie in (0, 1]")
        low = high * RELEASE_FACTOR if low is None else low
        if not 0 <= low <= high:
            raise ValueError("low must lie between 0 and high")
        self.high = high
        self.low = low
        self.tau_s = tau_s
        self._fraction = 0.0  # the busy fraction since the last report
        self._level = 0.0  # the average, as of _at
        self._at: float | None = None
        self._busy = False

    def report(self, now: float, fraction: float) -> None:
        """From ``now`` on, ``fraction`` (0..1) of the workers decode."""
        if not 0 <= fraction <= 1:
            raise ValueError("fraction must lie in [0, 1]")
        self._level = self.level(now)
        self._at = now
        self._fraction = fraction

    def level(self, now: float) -> float:
        """The averaged busy fraction at ``now`` (not before the last report)."""
        if self._at is None:
            return self._fraction
        elapsed = max(0.0, now - self._at)
        decay = math.exp(-elapsed / self.tau_s)
        return self._fraction + (self._level - self._fraction) * decay

    def busy(self, now: float) -> bool:
        """Whether the pool is under load at ``now`` (with hysteresis)."""
        level = self.level(now)
        if self._busy and level <= self.low:
            self._busy = False
        elif not self._busy and level >= self.high:
            self._busy = True
        return self._busy
