from __future__ import annotations

import numpy as np
import pytest
from bench.noise import active_level, mix, shop_noise


def test_noise_is_deterministic_per_seed() -> None:
    a = shop_noise(2.0, seed=3)
    np.testing.assert_array_equal(a, shop_noise(2.0, seed=3))
    assert not np.array_equal(a, shop_noise(2.0, seed=4))
    assert a.dtype == np.float32 and len(a) == 32_000


@pytest.mark.parametrize("level_db", [-50.0, -30.0, -20.0])
def test_noise_level(level_db: float) -> None:
    noise = shop_noise(5.0, seed=1, level_db=level_db)
    rms_db = 10 * np.log10(np.mean(np.square(noise.astype(np.float64))))
    assert rms_db == pytest.approx(level_db, abs=0.5)


def test_empty_noise() -> None:
    assert len(shop_noise(0.0)) == 0


@pytest.mark.parametrize("snr_db", [20.0, 10.0, 0.0])
def test_mix_hits_the_requested_snr(snr_db: float) -> None:
    t = np.arange(32_000) / 16_000
    speech = (0.2 * np.sin(2 * np.pi * 200 * t)).astype(np.float32)
    noise = shop_noise(1.0, seed=2)  # shorter: tiled
    mixed = mix(speech, noise, snr_db)
    added = mixed.astype(np.float64) - speech
    measured = 10 * np.log10(active_level(speech) / np.mean(np.square(added)))
    assert measured == pytest.approx(snr_db, abs=0.3)
    assert len(mixed) == len(speech) and mixed.dtype == np.float32
