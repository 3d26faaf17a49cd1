"""A pharmacy counter as the microphone hears it: reverberation, shop noise, level changes and
two people taking turns, built on the clean speech of :mod:`bench.speech`.

Deterministic for a given seed. Everything is 16 kHz mono float32.

* :func:`reverberate`: a synthetic room impulse response (a direct path, a few early
  reflections and an exponentially decaying diffuse tail with the given RT60), convolved.
* :func:`level_ramp`: a slow gain drift across the clip (a customer leaning in and away).
* :func:`conversation`: turns placed one after another with pauses, each at its own distance
  (the customer close to the microphone, the attendant across the counter).
* :func:`counter_scene`: all of it, plus :func:`bench.noise.shop_noise` at an SNR measured on
  the active speech level (:func:`bench.noise.mix`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import numpy as np

from balto.counter.audio.types import SAMPLE_RATE_HZ, Audio
from bench.noise import active_level, mix, shop_noise

SNRS_DB = (20.0, 10.0, 5.0)  # the shop-noise conditions every report uses


def _fft_convolve(signal: Audio, kernel: np.ndarray) -> np.ndarray:
    size = len(signal) + len(kernel) - 1
    n = 1 << (size - 1).bit_length()
    out = np.fft.irfft(np.fft.rfft(signal, n) * np.fft.rfft(kernel, n), n)[:size]
    return out


def impulse_response(rt60_s: float, *, direct_ratio_db: float, seed: int) -> np.ndarray:
    """A room response: direct path, early reflections (5–25 ms), diffuse tail.

    ``direct_ratio_db`` is the energy of the direct path over the reverberant energy (the
    nearer the talker, the higher).
    """
    rng = np.random.default_rng(seed)
    length = max(1, int(rt60_s * SAMPLE_RATE_HZ))
    t = np.arange(length) / SAMPLE_RATE_HZ
    tail = rng.standard_normal(length) * np.exp(-6.91 * t / rt60_s)  # -60 dB at rt60
    tail[: int(0.005 * SAMPLE_RATE_HZ)] = 0.0
    for _ in range(6):
        at = int(rng.uniform(0.005, 0.025) * SAMPLE_RATE_HZ)
        tail[at] += rng.uniform(0.3, 0.8) * rng.choice([-1.0, 1.0]) * length**0.5 / 20
    tail /= np.sqrt(np.sum(np.square(tail))) or 1.0
    response = tail * 10 ** (-direct_ratio_db / 20)
    response[0] += 1.0
    return response


def reverberate(
    audio: Audio, *, rt60_s: float = 0.45, direct_ratio_db: float = 3.0, seed: int = 0
) -> Audio:
    """``audio`` in a room, at its original active level; the tail rings on past the end."""
    if len(audio) == 0:
        return audio
    wet = _fft_convolve(audio, impulse_response(rt60_s, direct_ratio_db=direct_ratio_db, seed=seed))
    peak_in = float(np.max(np.abs(audio))) or 1.0
    peak_out = float(np.max(np.abs(wet))) or 1.0
    return (wet * (peak_in / peak_out)).astype(np.float32)


def level_ramp(audio: Audio, *, start_db: float, end_db: float) -> Audio:
    """A linear drift of the gain in dB across the clip."""
    gains = 10 ** (np.linspace(start_db, end_db, len(audio)) / 20)
    return np.clip(audio * gains, -1.0, 1.0).astype(np.float32)


@dataclasses.dataclass(frozen=True, slots=True)
class Turn:
    """Where one turn of a conversation lies in the scene (seconds)."""

    speaker: int  # 0 customer, 1 attendant
    start_s: float
    end_s: float


@dataclasses.dataclass(frozen=True, slots=True)
class Scene:
    audio: Audio
    turns: tuple[Turn, ...]


# Per speaker: (gain in dB, direct-to-reverberant ratio in dB): the customer leans in close to
# the counter microphone, the attendant stands across the counter.
_PLACES = ((0.0, 6.0), (-6.0, 0.0))


def conversation(
    turns: Sequence[Audio],
    *,
    pause_s: float = 0.6,
    lead_s: float = 0.5,
    tail_s: float = 1.2,
    rt60_s: float = 0.45,
    seed: int = 0,
) -> Scene:
    """``turns`` alternate customer / attendant, each reverberated from its own place."""
    rng = np.random.default_rng(seed)
    pieces: list[Audio] = [np.zeros(round(lead_s * SAMPLE_RATE_HZ), np.float32)]
    placed: list[Turn] = []
    at = len(pieces[0])
    for index, audio in enumerate(turns):
        speaker = index % 2
        gain_db, ratio_db = _PLACES[speaker]
        wet = reverberate(audio, rt60_s=rt60_s, direct_ratio_db=ratio_db, seed=seed * 31 + index)
        wet = (wet * 10 ** ((gain_db + rng.uniform(-2.0, 2.0)) / 20)).astype(np.float32)
        placed.append(Turn(speaker, at / SAMPLE_RATE_HZ, (at + len(audio)) / SAMPLE_RATE_HZ))
        gap = round(rng.uniform(0.7, 1.3) * pause_s * SAMPLE_RATE_HZ)
        pieces += [wet, np.zeros(gap, np.float32)]
        at += len(wet) + gap
    pieces.append(np.zeros(round(tail_s * SAMPLE_RATE_HZ), np.float32))
    return Scene(np.concatenate(pieces), tuple(placed))


def counter_scene(
    turns: Sequence[Audio],
    *,
    snr_db: float | None,
    seed: int = 0,
    rt60_s: float = 0.45,
    drift_db: float = 6.0,
    level_dbfs: float = -26.0,
) -> Scene:
    """A whole conversation at the counter: room, level drift, shop noise at ``snr_db``.

    ``snr_db=None`` keeps the room and the drift but adds no noise. The result's active
    speech level is ``level_dbfs`` (before the drift).
    """
    scene = conversation(turns, rt60_s=rt60_s, seed=seed)
    audio = scene.audio
    power = active_level(audio)
    if power > 0:
        audio = (audio * (10 ** (level_dbfs / 20) / np.sqrt(power))).astype(np.float32)
    rng = np.random.default_rng(seed + 7)
    start = float(rng.uniform(-drift_db, drift_db) / 2)
    audio = level_ramp(audio, start_db=start, end_db=-start)
    if snr_db is not None:
        noise = shop_noise(len(audio) / SAMPLE_RATE_HZ, seed=seed + 11)
        audio = mix(audio, noise, snr_db)
    return Scene(audio, scene.turns)
