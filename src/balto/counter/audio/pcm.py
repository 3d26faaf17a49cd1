"""Counter wire format (s16le mono) → 16 kHz float32, streaming and sans-IO."""

from __future__ import annotations

import numpy as np
import soxr

from balto.core.errors import BadRequest
from balto.counter.audio.types import Audio

TARGET_RATE_HZ = 16_000
MIN_RATE_HZ = 8_000
MAX_RATE_HZ = 48_000
#: soxr quality for every conversion to the pipeline rate (wire PCM and WAV files alike).
RESAMPLE_QUALITY = "HQ"


_EMPTY: Audio = np.zeros(0, dtype=np.float32)


class UnsupportedSampleRate(BadRequest):
    """The declared sample rate is outside what we accept."""


def validate_sample_rate(sample_rate_hz: int) -> int:
    """Return ``sample_rate_hz`` or raise ``UnsupportedSampleRate`` (a ``ClientError``)."""
    if (
        isinstance(sample_rate_hz, bool)
        or not isinstance(sample_rate_hz, int)
        or not MIN_RATE_HZ <= sample_rate_hz <= MAX_RATE_HZ
    ):
        raise UnsupportedSampleRate(
            f"taxa de amostragem não suportada: {sample_rate_hz!r} Hz "
            f"(use um valor inteiro entre {MIN_RATE_HZ} e {MAX_RATE_HZ} Hz)"
        )
    return sample_rate_hz


class PcmDecoder:
    """Turns s16le byte frames of any size into 16 kHz float32 samples in [-1, 1].

    A sample split across two frames (odd byte counts) is reassembled: the dangling byte is
    kept until the next ``feed``. Other rates are resampled with a streaming soxr resampler, so
    splitting the input differently never changes the output.
    """

    def __init__(self, sample_rate_hz: int = TARGET_RATE_HZ) -> None:
        self.sample_rate_hz = validate_sample_rate(sample_rate_hz)
        self._pending = b""
        self._resampler: soxr.ResampleStream | None = None
        if self.sample_rate_hz != TARGET_RATE_HZ:
            self._resampler = soxr.ResampleStream(
                self.sample_rate_hz, TARGET_RATE_HZ, 1, dtype="float32", quality=RESAMPLE_QUALITY
            )
        self.bytes_total = 0
        self.samples_out_total = 0

    @property
    def pending_bytes(self) -> int:
        """Bytes held back because they do not yet form a whole sample (0 or 1)."""
        return len(self._pending)

    def feed(self, data: bytes) -> Audio:
        self.bytes_total += len(data)
        buf = self._pending + data if self._pending else data
        whole = len(buf) - (len(buf) % 2)
        self._pending = bytes(buf[whole:])
        if whole == 0:
            return _EMPTY.copy()
        pcm = np.frombuffer(buf, dtype="<i2", count=whole // 2)
        samples = pcm.astype(np.float32) * np.float32(1.0 / 32768.0)
        return self._emit(samples, last=False)

    def flush(self) -> Audio:
        """End of stream: drain the resampler. A dangling half sample is discarded."""
        self._pending = b""
        if self._resampler is None:
            return _EMPTY.copy()
        return self._emit(_EMPTY, last=True)

    def _emit(self, samples: Audio, *, last: bool) -> Audio:
        if self._resampler is not None:
            out = self._resampler.resample_chunk(samples, last=last)
            samples = np.ascontiguousarray(out, dtype=np.float32).reshape(-1)
        self.samples_out_total += len(samples)
        return samples


def resample_to_target(samples: Audio, sample_rate_hz: int) -> Audio:
    """Mono float32 ``samples`` at any rate → the pipeline's 16 kHz, in one call (a whole
    recording), with the same soxr quality as :class:`PcmDecoder`."""
    if sample_rate_hz == TARGET_RATE_HZ:
        return np.ascontiguousarray(samples, dtype=np.float32)
    out = soxr.resample(
        np.asarray(samples, dtype=np.float32), sample_rate_hz, TARGET_RATE_HZ, RESAMPLE_QUALITY
    )
    return np.ascontiguousarray(out, dtype=np.float32).reshape(-1)
