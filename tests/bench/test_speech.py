"""The test-speech module: natural voices (Kokoro from espeak-ng phonemes) and the fallback."""

from __future__ import annotations

import numpy as np
import pytest

from balto.counter.audio.types import SAMPLE_RATE_HZ
from bench import espeak, kokoro, speech

needs_natural = pytest.mark.skipif(not speech.natural_available(), reason="Kokoro not installed")


def test_phonemes_keep_one_punctuation_mark_per_clause() -> None:
    if not espeak.available():
        pytest.skip("espeak-ng not installed")
    ipa = espeak.phonemes("Boa tarde, tô com febre... E você?")
    assert ipa.count(",") == 1 and ipa.count(".") == 1 and ipa.endswith("?")
    assert "fˈɛbr" in ipa


def test_unknown_natural_voice_is_refused() -> None:
    with pytest.raises(speech.SynthesisError, match="voz Kokoro desconhecida"):
        kokoro.synthesize("Oi.", voice="pt-br")


@needs_natural
def test_every_natural_voice_speaks_at_16_khz() -> None:
    assert speech.voices() == speech.NATURAL_VOICES
    assert speech.default_voice() == "jm_kumo"
    lengths = []
    for voice in speech.NATURAL_VOICES:
        audio = speech.synthesize("Estou com dor de cabeça.", voice=voice)
        assert audio.dtype == np.float32
        assert 0.8 < len(audio) / SAMPLE_RATE_HZ < 4.0
        assert 0.05 < float(np.max(np.abs(audio))) <= 1.0
        lengths.append(len(audio))
    assert len(set(lengths)) > 1  # five voices, not one voice five times


@needs_natural
def test_synthesis_is_cached_on_disk_and_repeatable(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("BALTO_CACHE_DIR", str(tmp_path))
    first = speech.synthesize("Tem dipirona?", voice="jf_alpha")
    cached = list((tmp_path / "speech").rglob("*.npy"))
    assert len(cached) == 1
    assert np.array_equal(speech.synthesize("Tem dipirona?", voice="jf_alpha"), first)
    cached[0].write_bytes(b"torn")  # a process killed mid-write: synthesised again
    assert np.array_equal(speech.synthesize("Tem dipirona?", voice="jf_alpha"), first)


@needs_natural
def test_words_per_minute_is_a_speed_for_natural_voices() -> None:
    normal = speech.synthesize("Queria um xarope para tosse.", voice="jm_kumo")
    fast = speech.synthesize("Queria um xarope para tosse.", voice="jm_kumo", words_per_minute=200)
    assert len(fast) < 0.9 * len(normal)


def test_espeak_voice_is_the_fallback() -> None:
    if not espeak.available():
        pytest.skip("espeak-ng not installed")
    audio = speech.synthesize("Bom dia.", voice="pt-br+f2")
    assert audio.dtype == np.float32 and len(audio) > SAMPLE_RATE_HZ // 4
