from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from balto.core.errors import ClientError
from balto.counter.audio.pcm import PcmDecoder, UnsupportedSampleRate


def _split(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({min(c, len(data)) for c in cuts})
    edges = [0, *points, len(data)]
    return [data[a:b] for a, b in itertools.pairwise(edges)]


def _feed_all(decoder: PcmDecoder, chunks: list[bytes]) -> np.ndarray:
    parts = [decoder.feed(c) for c in chunks]
    parts.append(decoder.flush())
    return np.concatenate(parts)


def test_values_are_scaled_to_unit_range() -> None:
    pcm = np.array([-32768, -16384, 0, 16384, 32767], dtype="<i2").tobytes()
    out = PcmDecoder().feed(pcm)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, [-1.0, -0.5, 0.0, 0.5, 32767 / 32768])


def test_dangling_byte_is_kept_for_the_next_frame() -> None:
    decoder = PcmDecoder()
    assert len(decoder.feed(b"\x01")) == 0
    assert decoder.pending_bytes == 1
    out = decoder.feed(b"\x02\x03")
    assert decoder.pending_bytes == 1
    np.testing.assert_allclose(out, [0x0201 / 32768])
    assert len(decoder.flush()) == 0
    assert decoder.pending_bytes == 0


@settings(max_examples=200, deadline=None)
@given(data=st.binary(max_size=400), cuts=st.lists(st.integers(0, 400), max_size=12))
def test_any_split_gives_the_same_samples(data: bytes, cuts: list[int]) -> None:
    whole = _feed_all(PcmDecoder(), [data])
    pieces = _feed_all(PcmDecoder(), _split(data, cuts))
    assert len(whole) == len(data) // 2
    np.testing.assert_array_equal(whole, pieces)


@settings(max_examples=25, deadline=None)
@given(
    rate=st.sampled_from([8000, 22050, 44100, 48000]),
    cuts=st.lists(st.integers(0, 8000), max_size=8),
)
def test_resampled_output_does_not_depend_on_the_split(rate: int, cuts: list[int]) -> None:
    rng = np.random.default_rng(rate)
    data = rng.integers(-3000, 3000, 4000, dtype=np.int16).astype("<i2").tobytes()
    whole = _feed_all(PcmDecoder(rate), [data])
    pieces = _feed_all(PcmDecoder(rate), _split(data, cuts))
    assert len(whole) == len(pieces)
    np.testing.assert_allclose(whole, pieces, atol=1e-6)


@pytest.mark.parametrize("rate", [8000, 11025, 22050, 44100, 48000])
def test_resampling_keeps_duration_and_pitch(rate: int) -> None:
    t = np.arange(rate) / rate  # one second
    tone = (0.5 * np.sin(2 * np.pi * 440.0 * t) * 32767).astype("<i2").tobytes()
    decoder = PcmDecoder(rate)
    chunk = 2 * rate // 50 + 1  # 20 ms and an odd byte, so samples straddle frames
    out = _feed_all(decoder, [tone[i : i + chunk] for i in range(0, len(tone), chunk)])
    assert abs(len(out) - 16_000) <= 2
    spectrum = np.abs(np.fft.rfft(out[2000:14000]))
    peak_hz = np.argmax(spectrum) * 16_000 / 12_000
    assert abs(peak_hz - 440.0) < 3.0
    assert np.max(np.abs(out)) == pytest.approx(0.5, abs=0.02)


def test_native_rate_is_passed_through() -> None:
    decoder = PcmDecoder(16_000)
    out = decoder.feed(np.arange(100, dtype="<i2").tobytes())
    assert len(out) == 100
    assert decoder.samples_out_total == 100
    assert decoder.bytes_total == 200


@pytest.mark.parametrize("rate", [0, 7999, 48001, 96000, -16000])
def test_bad_rates_are_client_errors_in_portuguese(rate: int) -> None:
    with pytest.raises(UnsupportedSampleRate) as info:
        PcmDecoder(rate)
    assert isinstance(info.value, ClientError)
    assert info.value.status == 400
    assert "taxa de amostragem" in info.value.message


def test_non_integer_rate_is_refused() -> None:
    with pytest.raises(UnsupportedSampleRate):
        PcmDecoder(True)
    with pytest.raises(UnsupportedSampleRate):
        PcmDecoder(16000.0)  # type: ignore[arg-type]
