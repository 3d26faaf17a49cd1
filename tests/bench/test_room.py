"""The counter-room simulation: reverberation, level drift, turns, shop noise at an SNR."""

from __future__ import annotations

import numpy as np
import pytest
from bench.noise import active_level

from balto.counter.audio.types import SAMPLE_RATE_HZ
from bench import room


def _tone(seconds: float, freq: float = 300.0) -> np.ndarray:
    t = np.arange(round(seconds * SAMPLE_RATE_HZ)) / SAMPLE_RATE_HZ
    return (0.3 * np.sin(2 * np.pi * freq * t) * (np.sin(2 * np.pi * 3 * t) > 0)).astype(np.float32)


def test_impulse_response_decays_by_rt60() -> None:
    response = room.impulse_response(0.5, direct_ratio_db=0.0, seed=1)
    assert response[0] == pytest.approx(1.0, abs=0.2)
    tail = response[1:]
    quarter = len(tail) // 4
    early = np.sum(np.square(tail[:quarter]))
    late = np.sum(np.square(tail[-quarter:]))
    assert late < early * 1e-3  # the last quarter of an RT60 is ≥ 30 dB down


def test_reverberation_rings_past_the_end_and_keeps_the_peak() -> None:
    dry = _tone(1.0)
    wet = room.reverberate(dry, rt60_s=0.4, seed=2)
    assert len(wet) > len(dry)
    assert float(np.max(np.abs(wet))) == pytest.approx(float(np.max(np.abs(dry))), rel=1e-3)
    assert np.any(np.abs(wet[len(dry) :]) > 1e-3)


def test_level_ramp_drifts_in_db() -> None:
    flat = np.full(16_000, 0.1, dtype=np.float32)
    ramped = room.level_ramp(flat, start_db=-6.0, end_db=6.0)
    assert ramped[0] == pytest.approx(0.1 * 10 ** (-6 / 20), rel=1e-3)
    assert ramped[-1] == pytest.approx(0.1 * 10 ** (6 / 20), rel=1e-3)


def test_conversation_alternates_speakers_in_order() -> None:
    scene = room.conversation([_tone(1.0), _tone(0.5), _tone(0.8)], seed=3)
    assert [t.speaker for t in scene.turns] == [0, 1, 0]
    starts = [t.start_s for t in scene.turns]
    assert starts == sorted(starts)
    assert all(a.end_s < b.start_s for a, b in zip(scene.turns, scene.turns[1:], strict=False))
    assert len(scene.audio) / SAMPLE_RATE_HZ > scene.turns[-1].end_s


@pytest.mark.parametrize("snr_db", room.SNRS_DB)
def test_counter_scene_adds_shop_noise_at_the_requested_snr(snr_db: float) -> None:
    turns = [_tone(1.5), _tone(1.0, 500.0)]
    quiet = room.counter_scene(turns, snr_db=None, seed=4)
    noisy = room.counter_scene(turns, snr_db=snr_db, seed=4)
    noise = noisy.audio.astype(np.float64) - quiet.audio
    measured = 10 * np.log10(active_level(quiet.audio) / np.mean(np.square(noise)))
    assert measured == pytest.approx(snr_db, abs=0.5)


def test_counter_scene_is_deterministic_per_seed() -> None:
    turns = [_tone(1.0)]
    a = room.counter_scene(turns, snr_db=10.0, seed=5).audio
    b = room.counter_scene(turns, snr_db=10.0, seed=5).audio
    c = room.counter_scene(turns, snr_db=10.0, seed=6).audio
    assert np.array_equal(a, b) and not np.array_equal(a, c)
