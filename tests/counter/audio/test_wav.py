"""The WAV reader: every layout a recorder writes, mixed to mono and resampled to 16 kHz."""

from __future__ import annotations

import io
import struct
import wave

import numpy as np
import pytest

from balto.core.errors import ClientError
from balto.counter.audio.pcm import TARGET_RATE_HZ, resample_to_target
from balto.counter.audio.wav import (
    FORMAT_EXTENSIBLE,
    FORMAT_IEEE_FLOAT,
    FORMAT_PCM,
    SUBFORMAT_TAIL,
    EmptyWav,
    InvalidWav,
    NotWav,
    TruncatedWav,
    UnsupportedWav,
    decode_wav,
)

TONE_HZ = 440.0


def tone(rate: int, seconds: float = 0.5, amplitude: float = 0.5) -> np.ndarray:
    t = np.arange(round(rate * seconds)) / rate
    return (amplitude * np.sin(2 * np.pi * TONE_HZ * t)).astype(np.float64)


def pcm_bytes(channels: np.ndarray, bits: int) -> bytes:
    """(frames, channels) floats in [-1, 1] → interleaved little-endian integer PCM."""
    if bits == 8:
        return np.round(channels * 127 + 128).astype(np.uint8).tobytes()
    values = np.round(channels * (2 ** (bits - 1) - 1)).astype(np.int64).reshape(-1)
    if bits == 24:
        return b"".join(int(v).to_bytes(3, "little", signed=True) for v in values)
    return values.astype("<i2" if bits == 16 else "<i4").tobytes()


def with_wave(channels: np.ndarray, rate: int, bits: int) -> bytes:
    """Integer PCM written by Python's own ``wave`` module."""
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(channels.shape[1])
        out.setsampwidth(bits // 8)
        out.setframerate(rate)
        out.writeframes(pcm_bytes(channels, bits))
    return buffer.getvalue()


def fmt_chunk(tag: int, channels: int, rate: int, bits: int, *, subformat: int = 0) -> bytes:
    block = channels * bits // 8
    body = struct.pack("<HHIIHH", tag, channels, rate, rate * block, block, bits)
    if tag == FORMAT_EXTENSIBLE:
        guid = struct.pack("<H", subformat) + SUBFORMAT_TAIL
        body += struct.pack("<HHI", 22, bits, 0) + guid
    elif tag == FORMAT_IEEE_FLOAT:
        body += struct.pack("<H", 0)  # cbSize, as most writers add it
    return chunk(b"fmt ", body)


def chunk(name: bytes, body: bytes, *, declared: int | None = None) -> bytes:
    size = len(body) if declared is None else declared
    return name + struct.pack("<I", size) + body + (b"\0" if len(body) % 2 else b"")


def riff(*chunks: bytes) -> bytes:
    body = b"WAVE" + b"".join(chunks)
    return b"RIFF" + struct.pack("<I", len(body)) + body


def dominant_hz(samples: np.ndarray, rate: int) -> float:
    spectrum = np.abs(np.fft.rfft(samples * np.hanning(len(samples))))
    return float(np.fft.rfftfreq(len(samples), 1 / rate)[np.argmax(spectrum)])


@pytest.mark.parametrize("rate", [8_000, 16_000, 44_100, 48_000])
def test_any_rate_becomes_16_khz_with_the_same_pitch(rate: int) -> None:
    wav = decode_wav(with_wave(tone(rate)[:, None], rate, 16))
    assert wav.format.sample_rate_hz == rate
    assert wav.duration_s == pytest.approx(0.5)
    audio = resample_to_target(wav.samples, rate)
    assert audio.dtype == np.float32
    assert len(audio) == pytest.approx(TARGET_RATE_HZ * 0.5, abs=2)
    assert dominant_hz(audio, TARGET_RATE_HZ) == pytest.approx(TONE_HZ, abs=4)
    middle = audio[800:-800]  # away from the resampler's edges
    assert np.abs(middle).max() == pytest.approx(0.5, abs=0.01)


@pytest.mark.parametrize("bits", [8, 16, 24, 32])
def test_integer_pcm_of_every_width(bits: int) -> None:
    source = tone(16_000)
    wav = decode_wav(with_wave(source[:, None], 16_000, bits))
    assert wav.format.describe() == f"PCM {bits} bits"
    assert not wav.truncated
    step = 2.0 / 2**bits
    np.testing.assert_allclose(wav.samples, source, atol=2 * step)


def test_stereo_is_averaged_to_mono() -> None:
    left, right = tone(48_000, amplitude=0.6), tone(48_000, amplitude=0.2)
    wav = decode_wav(with_wave(np.column_stack([left, right]), 48_000, 16))
    assert wav.format.channels == 2
    np.testing.assert_allclose(wav.samples, 0.4 * tone(48_000, amplitude=1.0), atol=1e-4)


def test_many_channels_are_averaged_too() -> None:
    channels = np.column_stack([tone(16_000, amplitude=a) for a in (0.1, 0.2, 0.3, 0.4, 0.5, 0.6)])
    wav = decode_wav(with_wave(channels, 16_000, 24))
    np.testing.assert_allclose(wav.samples, tone(16_000, amplitude=0.35), atol=1e-5)


def test_float32_with_chunks_to_skip() -> None:
    source = np.column_stack([tone(44_100), -tone(44_100, amplitude=0.25)]).astype("<f4")
    data = riff(
        chunk(b"LIST", b"INFOodd"),  # odd-sized: padded to an even size
        fmt_chunk(FORMAT_IEEE_FLOAT, 2, 44_100, 32),
        chunk(b"fact", struct.pack("<I", len(source))),
        chunk(b"data", source.tobytes()),
    )
    wav = decode_wav(data)
    assert wav.format.describe() == "float 32 bits"
    np.testing.assert_allclose(wav.samples, source.mean(axis=1), atol=1e-6)


def test_float64_and_out_of_range_floats_are_clipped() -> None:
    source = np.array([0.0, 0.5, 2.0, -3.0, np.nan], dtype="<f8")
    wav = decode_wav(
        riff(fmt_chunk(FORMAT_IEEE_FLOAT, 1, 8_000, 64), chunk(b"data", source.tobytes()))
    )
    np.testing.assert_allclose(wav.samples, [0.0, 0.5, 1.0, -1.0, 0.0])


@pytest.mark.parametrize(
    ("subformat", "bits", "encode"),
    [
        (FORMAT_PCM, 16, lambda x: pcm_bytes(x, 16)),
        (FORMAT_PCM, 24, lambda x: pcm_bytes(x, 24)),
        (FORMAT_IEEE_FLOAT, 32, lambda x: x.astype("<f4").tobytes()),
    ],
)
def test_extensible(subformat: int, bits: int, encode) -> None:
    source = np.column_stack([tone(48_000), tone(48_000)])
    data = riff(
        fmt_chunk(FORMAT_EXTENSIBLE, 2, 48_000, bits, subformat=subformat),
        chunk(b"data", encode(source)),
    )
    wav = decode_wav(data)
    assert wav.format.extensible
    assert wav.format.describe().endswith(f"{bits} bits (extensible)")
    np.testing.assert_allclose(wav.samples, source[:, 0], atol=1e-4)


def test_a_truncated_recording_keeps_its_whole_frames() -> None:
    data = with_wave(np.column_stack([tone(16_000), tone(16_000)]), 16_000, 16)
    cut = data[: len(data) - 4001]  # half a second declared, less held, a frame split
    wav = decode_wav(cut)
    assert wav.truncated
    assert len(wav.samples) == (len(cut) - 44) // 4
    np.testing.assert_allclose(wav.samples, tone(16_000)[: len(wav.samples)], atol=1e-4)


@pytest.mark.parametrize(
    ("cut", "words"),
    [
        (6, "cabeçalho RIFF"),
        (14, "'fmt '"),
        (30, "'fmt ' está incompleto"),
        (38, "'data'"),
        (46, "primeiro quadro"),
    ],
)
def test_a_file_cut_before_its_first_frame(cut: int, words: str) -> None:
    data = with_wave(np.column_stack([tone(16_000), tone(16_000)]), 16_000, 16)
    with pytest.raises(TruncatedWav, match=words):
        decode_wav(data[:cut])


@pytest.mark.parametrize(
    "data",
    [
        b"hello, world",
        b"ID3\x04\x00\x00\x00\x00\x00\x00" + bytes(100),  # an MP3
        b"RIFF\x10\x00\x00\x00AVI LIST\x04\x00\x00\x00hdrl",
        b'{"not": "audio"}',
    ],
)
def test_not_a_wav(data: bytes) -> None:
    with pytest.raises(NotWav, match="não é um arquivo WAV"):
        decode_wav(data)


def test_empty_files_and_empty_wavs() -> None:
    with pytest.raises(EmptyWav, match="vazio"):
        decode_wav(b"")
    with pytest.raises(EmptyWav, match="não tem áudio"):
        decode_wav(with_wave(np.zeros((0, 1)), 16_000, 16))


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (riff(fmt_chunk(0x0002, 1, 8_000, 4), chunk(b"data", bytes(8))), "0x0002"),  # ADPCM
        (riff(fmt_chunk(FORMAT_IEEE_FLOAT, 1, 8_000, 16), chunk(b"data", bytes(8))), "float"),
        (riff(fmt_chunk(FORMAT_PCM, 1, 8_000, 40), chunk(b"data", bytes(10))), "40 bits"),
        (b"RF64" + bytes(60), "RF64"),
    ],
)
def test_unsupported_encodings(data: bytes, words: str) -> None:
    with pytest.raises(UnsupportedWav, match=words):
        decode_wav(data)


def test_malformed_headers() -> None:
    no_fmt = riff(chunk(b"data", bytes(8)))
    with pytest.raises(InvalidWav, match="antes do bloco 'fmt '"):
        decode_wav(no_fmt)
    zero_channels = riff(fmt_chunk(FORMAT_PCM, 0, 8_000, 16), chunk(b"data", bytes(8)))
    with pytest.raises(InvalidWav, match="0 canais"):
        decode_wav(zero_channels)


def test_every_error_is_a_client_error_with_a_message() -> None:
    with pytest.raises(ClientError) as caught:
        decode_wav(b"nope")
    assert caught.value.message
