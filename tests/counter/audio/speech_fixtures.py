"""Shared speech material for the audio tests (espeak-ng; the tests skip without it)."""

from __future__ import annotations

import functools

import numpy as np
import pytest
from bench.speech import espeak_available, synthesize
from bench.vad_eval import trim_silence

needs_espeak = pytest.mark.skipif(not espeak_available(), reason="espeak-ng não está instalado")

SENTENCES = (
    "Estou com dor de garganta desde ontem",
    "Vocês têm algum remédio para tosse seca?",
    "Minha filha está com febre e dor de ouvido",
    "Obrigado, pode ser no cartão",
)


@functools.cache
def sentence(index: int = 0) -> np.ndarray:
    return trim_silence(synthesize(SENTENCES[index]))


def long_speech() -> np.ndarray:
    """About 8 s of speech with only short (150 ms) pauses between sentences."""
    pause = np.zeros(2400, dtype=np.float32)
    parts: list[np.ndarray] = []
    for i in range(len(SENTENCES)):
        parts += [sentence(i), pause]
    return np.concatenate(parts)
