"""Portuguese speech synthesised with espeak-ng, as 16 kHz mono float32 arrays.

espeak-ng is a Debian package (``apt-get install espeak-ng``), installed by the project's setup.
"""

from __future__ import annotations

import functools
import io
import shutil
import subprocess
import wave

import numpy as np
import soxr

from balto.core.errors import BaltoError
from balto.counter.audio.types import SAMPLE_RATE_HZ, Audio


class SynthesisError(BaltoError):
    """espeak-ng is missing or failed."""


def espeak_available() -> bool:
    return shutil.which("espeak-ng") is not None


@functools.lru_cache(maxsize=256)
def _synthesize_cached(text: str, voice: str, words_per_minute: int, pitch: int) -> bytes:
    if not espeak_available():
        raise SynthesisError("espeak-ng não está instalado (apt-get install espeak-ng)")
    cmd = [
        "espeak-ng",
        "-v",
        voice,
        "-s",
        str(words_per_minute),
        "-p",
        str(pitch),
        "--stdout",
        text,
    ]
    try:
        done = subprocess.run(cmd, capture_output=True, check=True, timeout=60)
    except (OSError, subprocess.SubprocessError) as exc:
        raise SynthesisError(f"espeak-ng falhou: {exc}") from exc
    with wave.open(io.BytesIO(done.stdout)) as wav:
        rate = wav.getframerate()
        if wav.getsampwidth() != 2 or wav.getnchannels() != 1:
            raise SynthesisError("espeak-ng devolveu um formato inesperado")
        frames = wav.readframes(wav.getnframes())
    pcm = np.frombuffer(frames, dtype="<i2").astype(np.float32) / 32768.0
    audio = soxr.resample(pcm, rate, SAMPLE_RATE_HZ) if rate != SAMPLE_RATE_HZ else pcm
    return np.asarray(audio, dtype=np.float32).tobytes()


def synthesize(
    text: str, *, voice: str = "pt-br", words_per_minute: int = 150, pitch: int = 50
) -> Audio:
    """Speak ``text`` and return 16 kHz mono float32 samples in [-1, 1]."""
    raw = _synthesize_cached(text, voice, words_per_minute, pitch)
    return np.frombuffer(raw, dtype=np.float32).copy()


def silence(seconds: float) -> Audio:
    return np.zeros(round(seconds * SAMPLE_RATE_HZ), dtype=np.float32)


def to_pcm16(audio: Audio) -> bytes:
    """Float samples → little-endian signed 16-bit PCM, the counter's wire format."""
    clipped = np.clip(audio, -1.0, 1.0)
    return (clipped * 32767.0).astype("<i2").tobytes()
