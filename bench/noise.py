"""Generated pharmacy-shop noise at 16 kHz float32, deterministic for a given seed.

The mix: pink and brown background (ventilation, traffic), babble-like noise (speech-band
noise with a syllabic-rate envelope, a few "talkers" far away), occasional barcode-scanner
beeps and clatter transients (coins, bags, boxes on the counter).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from balto.counter.audio.types import SAMPLE_RATE_HZ, Audio

_F64 = npt.NDArray[np.float64]


def _rms(x: npt.NDArray[np.floating]) -> float:
    return float(np.sqrt(np.mean(np.square(x, dtype=np.float64)))) if len(x) else 0.0


def _normalise(x: _F64) -> _F64:
    r = _rms(x)
    return x / r if r > 0 else x


def _shaped_noise(rng: np.random.Generator, n: int, exponent: float) -> _F64:
    """Gaussian noise with power spectrum ∝ 1/f**exponent (1: pink, 2: brown), unit RMS."""
    spectrum = np.fft.rfft(rng.standard_normal(n))
    freqs = np.fft.rfftfreq(n, 1.0 / SAMPLE_RATE_HZ)
    gain = np.zeros_like(freqs)
    # Below 20 Hz is inaudible and would dominate brown noise.
    gain[freqs >= 20.0] = freqs[freqs >= 20.0] ** (-exponent / 2.0)
    return _normalise(np.fft.irfft(spectrum * gain, n))


def _bandpass(x: _F64, low_hz: float, high_hz: float) -> _F64:
    spectrum = np.fft.rfft(x)
    freqs = np.fft.rfftfreq(len(x), 1.0 / SAMPLE_RATE_HZ)
    spectrum[(freqs < low_hz) | (freqs > high_hz)] = 0.0
    return np.fft.irfft(spectrum, len(x))


def _babble(rng: np.random.Generator, n: int, talkers: int = 4) -> _F64:
    t = np.arange(n) / SAMPLE_RATE_HZ
    out = np.zeros(n)
    for _ in range(talkers):
        voice = _bandpass(_shaped_noise(rng, n, 1.0), 200.0, 3500.0)
        rate = rng.uniform(3.0, 6.0)  # syllables per second
        phase = rng.uniform(0.0, 2 * np.pi)
        envelope = 0.5 + 0.5 * np.sin(2 * np.pi * rate * t + phase)
        # Slow on/off of each talker (pauses between phrases).
        slow = 0.5 + 0.5 * np.sin(2 * np.pi * rng.uniform(0.1, 0.3) * t + rng.uniform(0, 6.3))
        out += voice * envelope**2 * slow
    return _normalise(out)


def _events(rng: np.random.Generator, n: int) -> _F64:
    """Scanner beeps (~1 per 6 s) and clatter bursts (~1 per 4 s), unit-ish amplitude."""
    out = np.zeros(n)
    seconds = n / SAMPLE_RATE_HZ
    for _ in range(rng.poisson(seconds / 6.0)):
        length = int(rng.uniform(0.08, 0.2) * SAMPLE_RATE_HZ)
        start = int(rng.integers(0, max(1, n - length)))
        freq = rng.choice([1800.0, 2700.0, 3100.0])
        t = np.arange(length) / SAMPLE_RATE_HZ
        ramp = np.minimum(1.0, np.minimum(t, t[::-1]) / 0.005)
        seg = out[start : start + length]
        seg += 0.5 * ramp[: len(seg)] * np.sin(2 * np.pi * freq * t[: len(seg)])
    for _ in range(rng.poisson(seconds / 4.0)):
        length = int(rng.uniform(0.03, 0.15) * SAMPLE_RATE_HZ)
        start = int(rng.integers(0, max(1, n - length)))
        decay = np.exp(-np.arange(length) / (length / 5.0))
        burst = _bandpass(rng.standard_normal(length), 500.0, 7000.0) * decay
        seg = out[start : start + length]
        seg += rng.uniform(0.5, 2.0) * burst[: len(seg)]
    return out


def shop_noise(seconds: float, *, seed: int = 0, level_db: float = -40.0) -> Audio:
    """``seconds`` of shop noise whose overall RMS is ``level_db`` dBFS."""
    n = round(seconds * SAMPLE_RATE_HZ)
    if n <= 0:
        return np.zeros(0, dtype=np.float32)
    rng = np.random.default_rng(seed)
    bed = (
        0.6 * _shaped_noise(rng, n, 1.0) + 0.5 * _shaped_noise(rng, n, 2.0) + 0.6 * _babble(rng, n)
    )
    mixture = _normalise(bed) + _events(rng, n)
    scaled = _normalise(mixture) * 10.0 ** (level_db / 20.0)
    out: Audio = np.clip(scaled, -1.0, 1.0).astype(np.float32)
    return out


def active_level(speech: npt.NDArray[np.floating], frame: int = 320) -> float:
    """Mean power of the frames within 40 dB of the loudest one (a simple active speech level)."""
    usable = len(speech) - len(speech) % frame
    if usable == 0:
        return float(np.mean(np.square(speech, dtype=np.float64))) if len(speech) else 0.0
    powers = np.mean(np.square(speech[:usable], dtype=np.float64).reshape(-1, frame), axis=1)
    peak = float(powers.max())
    if peak == 0.0:
        return 0.0
    return float(powers[powers >= peak * 1e-4].mean())


def mix(speech: Audio, noise: Audio, snr_db: float) -> Audio:
    """``speech`` plus ``noise`` scaled so that active speech level / noise power = ``snr_db``.

    ``noise`` is tiled when shorter than ``speech``; the result is clipped to [-1, 1].
    """
    if len(speech) == 0:
        return np.zeros(0, dtype=np.float32)
    if len(noise) == 0:
        raise ValueError("noise must not be empty")
    reps = -(-len(speech) // len(noise))
    bed = np.tile(noise.astype(np.float64), reps)[: len(speech)]
    noise_power = float(np.mean(np.square(bed)))
    speech_power = active_level(speech)
    gain = 0.0 if noise_power == 0.0 else np.sqrt(speech_power / noise_power / 10 ** (snr_db / 10))
    out = speech.astype(np.float64) + gain * bed
    return np.clip(out, -1.0, 1.0).astype(np.float32)
