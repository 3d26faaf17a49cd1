"""Known-answer tests of the whisper.cpp transcriber on natural-voice Portuguese speech
(``bench.speech``: Kokoro's Brazilian-sounding voice), decoded as the server decodes (no
initial prompt)."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import numpy as np
import pytest
from bench.speech import silence, synthesize

from balto.core.errors import RecognizerError
from balto.counter.asr.base import Transcriber
from balto.counter.asr.hallucinations import normalize
from balto.counter.asr.whisper import (
    FULL_AUDIO_CTX,
    DecodeOptions,
    WhisperTranscriber,
    audio_ctx_for,
    token_cap_for,
)

PHARMACY = DecodeOptions()


def test_audio_ctx_follows_the_audio() -> None:
    assert audio_ctx_for(16_000) == 128  # 50 positions + 64 margin → next multiple of 32
    assert audio_ctx_for(5 * 16_000) == 320
    assert audio_ctx_for(16_000, margin=16) == 96  # a margin bench.quality.margin compares
    assert audio_ctx_for(60 * 16_000) == FULL_AUDIO_CTX
    assert all(audio_ctx_for(n) % 32 == 0 for n in range(1, 400_000, 7919))


def test_token_cap() -> None:
    assert token_cap_for(16_000, 64) == 15
    assert token_cap_for(30 * 16_000, 64) == 64
    assert token_cap_for(100, 0) == 1


def test_missing_model_file(tmp_path: Path) -> None:
    with pytest.raises(RecognizerError, match="não encontrado"):
        WhisperTranscriber(tmp_path / "ggml-none.bin")


def test_a_bad_model_file_is_a_recognizer_error(tmp_path: Path) -> None:
    bogus = tmp_path / "ggml-bogus.bin"
    bogus.write_bytes(b"not a model" * 100)
    with pytest.raises(RecognizerError, match="carregar"):
        WhisperTranscriber(bogus)


def _words(text: str) -> set[str]:
    return set(normalize(text).split())


@pytest.mark.slow
@pytest.mark.parametrize(
    ("spoken", "key_words"),
    [
        ("Estou com dor de cabeça.", {"dor", "cabeca"}),
        ("Estou com dor de garganta.", {"garganta"}),
        ("Estou com muita dor nas costas desde ontem.", {"muita", "dor", "costas"}),
        ("Boa tarde, eu estou gripado.", {"gripado"}),
        (
            "Minha filha está com febre e dor de garganta desde ontem à noite.",
            {"febre", "garganta", "noite"},
        ),
    ],
)
def test_known_sentences(transcriber: WhisperTranscriber, spoken: str, key_words: set[str]) -> None:
    heard = transcriber.transcribe(synthesize(spoken), PHARMACY)
    assert key_words <= _words(heard), heard


def test_a_negative_margin_is_refused(base_model: Path) -> None:
    with pytest.raises(ValueError, match="audio_ctx_margin"):
        WhisperTranscriber(base_model, audio_ctx_margin=-1)


@pytest.mark.slow
def test_beam_search_decodes_too(base_model: Path) -> None:
    with pytest.raises(ValueError, match="beam_size"):
        WhisperTranscriber(base_model, beam_size=0)
    with WhisperTranscriber(base_model, n_threads=2, beam_size=5) as beam:
        heard = beam.transcribe(synthesize("Estou com dor de cabeça."), PHARMACY)
    assert {"dor", "cabeca"} <= _words(heard), heard


@pytest.mark.slow
def test_silence_and_noise_give_nothing(transcriber: WhisperTranscriber) -> None:
    rng = np.random.default_rng(7)
    assert transcriber.transcribe(silence(3.0), PHARMACY) == ""
    assert transcriber.transcribe(np.zeros(0, dtype=np.float32), PHARMACY) == ""
    hiss = (0.002 * rng.standard_normal(3 * 16_000)).astype(np.float32)
    assert transcriber.transcribe(hiss, PHARMACY) == ""  # below the -50 dBFS gate
    for level in (0.01, 0.1):  # base hears "O que é isso?" in white noise
        noise = (level * rng.standard_normal(3 * 16_000)).astype(np.float32)
        assert transcriber.transcribe(noise, PHARMACY) == ""
    hum = (0.05 * np.sin(2 * np.pi * 60 * np.arange(48_000) / 16_000)).astype(np.float32)
    assert transcriber.transcribe(hum, PHARMACY) == ""


@pytest.mark.slow
def test_very_short_audio_is_padded(transcriber: WhisperTranscriber) -> None:
    blip = synthesize("Sim.")[:8_000]
    assert isinstance(transcriber.transcribe(blip, PHARMACY), str)


@pytest.mark.slow
def test_inference_releases_the_gil(transcriber: WhisperTranscriber) -> None:
    audio = synthesize("Estou com muita dor nas costas desde ontem.")
    done = threading.Event()
    result: list[str] = []

    def work() -> None:
        result.append(transcriber.transcribe(audio, PHARMACY))
        done.set()

    worker = threading.Thread(target=work)
    started = time.perf_counter()
    worker.start()
    spins = 0
    while not done.is_set():
        spins += 1
    elapsed = time.perf_counter() - started
    worker.join()
    assert result and "costas" in normalize(result[0])
    # Holding the GIL for the whole call would leave this loop a handful of switch intervals.
    assert elapsed > 0.2
    assert spins > 50_000 * elapsed


@pytest.mark.slow
def test_two_transcribers_in_two_threads(base_model: Path) -> None:
    audio = synthesize("Estou com dor de garganta.")
    outputs: dict[int, str] = {}

    def work(slot: int) -> None:
        with WhisperTranscriber(base_model, n_threads=1) as own:
            outputs[slot] = own.transcribe(audio, PHARMACY)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(outputs) == 2
    assert outputs[0] == outputs[1]
    assert "garganta" in normalize(outputs[0])


def test_satisfies_the_transcriber_protocol(transcriber: WhisperTranscriber) -> None:
    seam: Transcriber = transcriber
    assert callable(seam.transcribe)


def test_closed_transcriber_refuses_work(base_model: Path) -> None:
    instance = WhisperTranscriber(base_model)
    instance.close()
    instance.close()  # idempotent
    with pytest.raises(RecognizerError, match="fechado"):
        instance.transcribe(synthesize("Oi."), PHARMACY)


def test_a_truncated_model_is_a_recognizer_error(tmp_path: Path, base_model: Path) -> None:
    cut = tmp_path / "ggml-cut.bin"
    with base_model.open("rb") as source:
        cut.write_bytes(source.read(5_000_000))
    with pytest.raises(RecognizerError, match="carregar"):
        WhisperTranscriber(cut)
