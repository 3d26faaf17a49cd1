from __future__ import annotations

import numpy as np
import pytest
from bench.noise import mix, shop_noise
from bench.vad_eval import FinalJob, LabelledStream, Span, build_stream, evaluate, score

from .speech_fixtures import SENTENCES, needs_espeak, sentence


def test_score_counts_misses_false_starts_and_splits() -> None:
    sentences = [Span(1.0, 2.0), Span(4.0, 5.0), Span(8.0, 9.0)]
    finals = [
        FinalJob(Span(0.9, 2.1), 2.6),
        FinalJob(Span(3.9, 4.4), 4.9),
        FinalJob(Span(4.5, 5.1), 5.6),
        FinalJob(Span(6.0, 6.5), 7.0),
    ]
    report = score(sentences, finals, interims=2, us_per_frame=1.0)
    assert (report.missed, report.false_starts, report.split, report.merged) == (1, 1, 1, 0)
    assert report.mean_delay_ms == pytest.approx(600.0)


def test_build_stream_labels_spans() -> None:
    clips = [np.ones(8000, dtype=np.float32), np.ones(4000, dtype=np.float32)]
    stream = build_stream(clips, seed=1, gap_range_s=(1.0, 1.0), lead_s=0.5)
    assert stream.sentences == (Span(0.5, 1.0), Span(2.0, 2.25))
    assert len(stream.audio) == 16_000 * 3.25  # lead + clips + gaps


@pytest.mark.slow
@needs_espeak
@pytest.mark.parametrize("snr_db", [None, 10.0])
def test_four_sentences_are_all_found(snr_db: float | None) -> None:
    stream = build_stream([sentence(i) for i in range(len(SENTENCES))], seed=2)
    if snr_db is not None:
        noise = shop_noise(len(stream.audio) / 16_000, seed=2)
        stream = LabelledStream(mix(stream.audio, noise, snr_db), stream.sentences)
    report = evaluate(stream)
    assert report.sentences == 4
    assert report.missed == 0
    assert report.false_starts == 0
    assert report.split == 0
    assert report.merged == 0
    assert 0.0 < report.mean_delay_ms < 800.0
