"""Shared speech material for the audio tests: the natural test voice (``bench.speech``; espeak-ng
where Kokoro is missing; the tests skip without espeak-ng)."""

from __future__ import annotations

import functools

import numpy as np
import pytest
from bench.speech import espeak_available, synthesize

needs_espeak = pytest.mark.skipif(not espeak_available(), reason="espeak-ng não está instalado")

SENTENCES = (
    "Estou com dor de garganta desde ontem",
    "Vocês têm algum remédio para tosse seca?",
    "Minha filha está com febre e dor de ouvido",
    "Obrigado, pode ser no cartão",
)
AUDIBLE_DB = 40.0  # what is this far below the loudest 20 ms frame is not speech any more


def audible(clip: np.ndarray, frame: int = 320) -> np.ndarray:
    """``clip`` from its first to its last frame within :data:`AUDIBLE_DB` of the loudest
    (a neural voice fades in and out far below anything a microphone would pick up)."""
    usable = len(clip) - len(clip) % frame
    power = np.mean(np.square(clip[:usable].reshape(-1, frame), dtype=np.float64), axis=1)
    loud = np.flatnonzero(power >= power.max() * 10 ** (-AUDIBLE_DB / 10))
    return clip[loud[0] * frame : (loud[-1] + 1) * frame]


@functools.cache
def sentence(index: int = 0) -> np.ndarray:
    return audible(synthesize(SENTENCES[index]))


def long_speech() -> np.ndarray:
    """About 8 s of speech with only short (150 ms) pauses between sentences."""
    pause = np.zeros(2400, dtype=np.float32)
    parts: list[np.ndarray] = []
    for i in range(len(SENTENCES)):
        parts += [sentence(i), pause]
    return np.concatenate(parts)
