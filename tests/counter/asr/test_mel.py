from __future__ import annotations

import numpy as np

from balto.counter.asr.convert.mel import hz_to_mel, mel_filters, mel_to_hz


def test_slaney_scale_anchor_points() -> None:
    # Linear below 1 kHz (200/3 Hz per mel), logarithmic above: 6400 Hz is 27 steps past 1 kHz.
    np.testing.assert_allclose(
        hz_to_mel(np.array([0.0, 200.0, 1000.0, 6400.0])), [0.0, 3.0, 15.0, 42.0]
    )
    freqs = np.array([0.0, 123.0, 999.0, 1000.0, 4321.0, 8000.0])
    np.testing.assert_allclose(mel_to_hz(hz_to_mel(freqs)), freqs, rtol=1e-12, atol=1e-9)


def test_filterbank_shape_and_values() -> None:
    filters = mel_filters(16_000, 400, 80)
    assert filters.shape == (80, 201)
    assert filters.dtype == np.float32
    assert (filters >= 0).all()
    assert (filters.max(axis=1) > 0).all()  # no empty band
    peaks = filters.argmax(axis=1)
    assert (np.diff(peaks) >= 0).all()
    assert filters[:, -1].max() == 0  # the Nyquist bin is past the last triangle's top


def test_slaney_normalisation_gives_unit_area() -> None:
    filters = mel_filters(16_000, 400, 80).astype(np.float64)
    bin_hz = 16_000 / 400
    areas = filters.sum(axis=1) * bin_hz
    # Wide (upper) triangles are well sampled by the 40 Hz bins: area ≈ 1 in Hz units.
    np.testing.assert_allclose(areas[30:], 1.0, rtol=0.1)


def test_first_filter_matches_closed_form() -> None:
    filters = mel_filters(16_000, 400, 80)
    top = mel_to_hz(hz_to_mel(np.array(8000.0)) / 81 * np.arange(3))  # first three band edges
    # FFT bin 1 (40 Hz) is on the falling edge of the first triangle (peak ≈ 37 Hz, foot ≈ 75 Hz),
    # scaled by 2 / width.
    assert top[1] < 40.0 < top[2]
    expected = (top[2] - 40.0) / (top[2] - top[1]) * 2.0 / (top[2] - top[0])
    np.testing.assert_allclose(filters[0, 1], expected, rtol=1e-6)
