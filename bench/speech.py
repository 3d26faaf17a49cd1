"""Portuguese test speech, 16 kHz mono float32: natural voices first, espeak-ng as fallback.

The natural voices are Kokoro-82M's five (``bench.kokoro``), speaking pt-BR from espeak-ng's
phonemes; ``jm_kumo`` sounds Brazilian, the others carry a Japanese accent, as some customers'
Portuguese does. Whisper base hears them almost word for word. espeak-ng's own voices
(``pt-br``, ``pt-br+f2`` …) are robots that Whisper hears at about 70% WER: they remain for
the tests that need a hard voice and as the fallback where Kokoro is not installed.

Used by the tests, the benchmarks and ``auto_test.py``; never by the server.
"""

from __future__ import annotations

import numpy as np

from balto.counter.audio.types import SAMPLE_RATE_HZ, Audio
from bench import espeak, kokoro
from bench.espeak import SynthesisError

__all__ = [
    "ESPEAK_VOICES",
    "NATURAL_VOICES",
    "SAMPLE_RATE_HZ",
    "SynthesisError",
    "default_voice",
    "espeak_available",
    "natural_available",
    "silence",
    "synthesize",
    "to_pcm16",
    "voices",
]

NATURAL_VOICES = kokoro.VOICES
ESPEAK_VOICES = ("pt-br", "pt-br+f2", "pt-br+m3", "pt-br+m1")
BASE_WORDS_PER_MINUTE = 150  # espeak's rate that Kokoro's speed 1.0 stands for


def espeak_available() -> bool:
    """Whether any test speech can be made (Kokoro needs espeak-ng's phonemes too)."""
    return espeak.available()


def natural_available() -> bool:
    return kokoro.available()


def default_voice() -> str:
    return NATURAL_VOICES[0] if kokoro.available() else ESPEAK_VOICES[0]


def voices() -> tuple[str, ...]:
    """Every voice a test set should speak with: all natural ones, or espeak's as fallback."""
    return NATURAL_VOICES if kokoro.available() else ESPEAK_VOICES


def synthesize(
    text: str, *, voice: str | None = None, words_per_minute: int | None = None, pitch: int = 50
) -> Audio:
    """Speak ``text`` in ``voice`` (default: :func:`default_voice`).

    A Kokoro voice takes ``words_per_minute`` as a speed relative to 150 and ignores
    ``pitch``; an espeak-ng voice takes both as they are.
    """
    chosen = voice or default_voice()
    rate = words_per_minute or BASE_WORDS_PER_MINUTE
    if chosen in NATURAL_VOICES:
        return kokoro.synthesize(text, voice=chosen, speed=rate / BASE_WORDS_PER_MINUTE)
    return espeak.synthesize(text, voice=chosen, words_per_minute=rate, pitch=pitch)


def silence(seconds: float) -> Audio:
    return np.zeros(round(seconds * SAMPLE_RATE_HZ), dtype=np.float32)


def to_pcm16(audio: Audio) -> bytes:
    """Float samples → little-endian signed 16-bit PCM, the counter's wire format."""
    clipped = np.clip(audio, -1.0, 1.0)
    return (clipped * 32767.0).astype("<i2").tobytes()
