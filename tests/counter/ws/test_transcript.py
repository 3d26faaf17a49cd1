"""The utterance text the detector reads: whole decodes replace it, windows continue it."""

from __future__ import annotations

import numpy as np

from balto.counter.audio.segmenter import DecodeJob
from balto.counter.ws.transcript import UtteranceTranscript


def job(utterance: int, start_s: float, end_s: float, *, final: bool = False) -> DecodeJob:
    audio = np.zeros(round((end_s - start_s) * 16_000), dtype=np.float32)
    return DecodeJob(utterance, audio, final, start_s, end_s)


def test_a_decode_from_the_utterance_start_replaces_what_was_heard() -> None:
    transcript = UtteranceTranscript()
    assert transcript.heard(job(1, 0.0, 1.5), "tô com uma") == "tô com uma"
    assert transcript.heard(job(1, 0.0, 3.0), "tô com uma dor") == "tô com uma dor"
    assert transcript.heard(job(1, 0.0, 4.0, final=True), "tô com dor") == "tô com dor"


def test_a_window_continues_the_utterance_less_its_overlap() -> None:
    transcript = UtteranceTranscript()
    transcript.heard(job(1, 0.0, 2.0), "não estou com")
    assert transcript.heard(job(1, 1.5, 3.5), "com febre") == "não estou com febre"
    assert transcript.heard(job(1, 3.0, 4.0, final=True), "febre hoje") == (
        "não estou com febre hoje"
    )


def test_a_new_utterance_starts_afresh_even_without_the_last_final() -> None:
    transcript = UtteranceTranscript()
    transcript.heard(job(1, 0.0, 2.0), "dor nas")
    # utterance 1's final was skipped (too late) or covered: utterance 2 owes it nothing
    assert transcript.heard(job(2, 5.0, 6.0), "costas") == "costas"


def test_after_a_final_the_next_window_of_the_same_id_does_not_continue_it() -> None:
    transcript = UtteranceTranscript()
    transcript.heard(job(1, 0.0, 2.0, final=True), "bom dia")
    assert transcript.heard(job(1, 1.5, 3.0), "quanto custa") == "quanto custa"
