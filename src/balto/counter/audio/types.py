"""The audio types and constants every room shares: 16 kHz mono float32 samples in [-1, 1]."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

__all__ = ["SAMPLE_RATE_HZ", "Audio"]

#: The rate the whole pipeline runs at (wire PCM at other rates is resampled on arrival).
SAMPLE_RATE_HZ = 16_000
#: Mono samples, float32, in [-1, 1].
Audio = npt.NDArray[np.float32]
