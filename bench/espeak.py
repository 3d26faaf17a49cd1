"""espeak-ng: Portuguese phonemes (for Kokoro) and robot-voice speech (the fallback voice).

espeak-ng is a Debian package (``apt-get install espeak-ng``), installed by the project's setup.
"""

from __future__ import annotations

import functools
import io
import re
import shutil
import subprocess
import wave

import numpy as np
import soxr

from balto.core.errors import BaltoError
from balto.counter.audio.types import SAMPLE_RATE_HZ, Audio

_CLAUSE = re.compile(r"([^,.;:!?]+)([,.;:!?]*)")


class SynthesisError(BaltoError):
    """A speech engine is missing or failed."""


def available() -> bool:
    return shutil.which("espeak-ng") is not None


def _run(args: list[str], text: str) -> bytes:
    if not available():
        raise SynthesisError("espeak-ng não está instalado (apt-get install espeak-ng)")
    try:
        done = subprocess.run(
            ["espeak-ng", *args], input=text.encode(), capture_output=True, check=True, timeout=60
        )
    except (OSError, subprocess.SubprocessError) as exc:
        raise SynthesisError(f"espeak-ng falhou: {exc}") from exc
    return done.stdout


@functools.lru_cache(maxsize=4096)
def _clause_ipa(clause: str) -> str:
    return " ".join(_run(["-v", "pt-br", "-q", "--ipa"], clause).decode().split())


def phonemes(text: str) -> str:
    """pt-BR IPA of ``text``, clause by clause, keeping one punctuation mark after each."""
    pieces = []
    for words, punctuation in _CLAUSE.findall(text):
        if words.strip():
            pieces.append(_clause_ipa(words.strip()) + punctuation[:1])
    return " ".join(pieces)


@functools.lru_cache(maxsize=256)
def _synthesize_cached(text: str, voice: str, words_per_minute: int, pitch: int) -> bytes:
    args = ["-v", voice, "-s", str(words_per_minute), "-p", str(pitch), "--stdout"]
    with wave.open(io.BytesIO(_run(args, text))) as wav:
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
    """``text`` in an espeak-ng voice: 16 kHz mono float32 samples in [-1, 1]."""
    raw = _synthesize_cached(text, voice, words_per_minute, pitch)
    return np.frombuffer(raw, dtype=np.float32).copy()
