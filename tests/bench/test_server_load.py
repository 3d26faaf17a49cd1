"""The server benchmark's load model, capacity criterion and plot: the pure parts, no server
and no synthesis (tones stand in for speech)."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from bench.server.audio import (
    ATTENDANT,
    COMPLAINTS,
    CUSTOMER,
    NEUTRAL,
    Sentence,
    build_loop,
    expected_categoria,
)
from bench.server.dialogue import (
    ATTENDANT_LINES,
    build_dialogue_loop,
    exchange_gaps,
    voice_pair,
)
from bench.server.measure import holds, server_counts
from bench.server.plot import latency_points, plot_latency

from balto.counter.audio.types import SAMPLE_RATE_HZ


def _tone(seconds: float, freq: float) -> np.ndarray:
    t = np.arange(round(seconds * SAMPLE_RATE_HZ)) / SAMPLE_RATE_HZ
    return (0.5 * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def _sentences(speaker: str, count: int, seconds: float, categoria: str | None) -> tuple:
    return tuple(
        Sentence(f"{speaker} {i}", categoria, _tone(seconds, 200.0 + 40 * i), speaker, "v")
        for i in range(count)
    )


def test_gaps_make_speech_the_asked_fraction() -> None:
    rng = np.random.default_rng(1)
    gaps = exchange_gaps(30.0, [12.0, 12.0, 12.0], 1 / 3, rng)
    assert len(gaps) == 3 and min(gaps) > 0
    assert 30.0 / (36.0 + sum(gaps)) == pytest.approx(1 / 3)
    # a fraction the exchanges alone exceed: the least gap each, so less speech than asked
    assert exchange_gaps(30.0, [20.0, 20.0], 0.9, rng, min_gap_s=1.0) == [1.0, 1.0]
    with pytest.raises(ValueError):
        exchange_gaps(30.0, [12.0], 0.0, rng)


@pytest.mark.parametrize("fraction", [1 / 3, 0.2])
def test_dialogue_loop_talk_fraction_and_turns(fraction: float) -> None:
    customer = _sentences(CUSTOMER, 6, 2.0, "dor")
    attendant = _sentences(ATTENDANT, 3, 1.2, None)
    loop = build_dialogue_loop(customer, attendant, seed=3, talk_fraction=fraction, snr_db=20.0)
    assert loop.talk_fraction == pytest.approx(fraction, rel=0.05)
    assert 0 < loop.customer_fraction < loop.talk_fraction
    speakers = [loop.sentences[u.sentence].speaker for u in loop.utterances]
    assert speakers == [CUSTOMER, ATTENDANT] * 6  # every customer sentence answered once
    assert sorted(u.sentence for u in loop.utterances[::2]) == list(range(6))
    assert len(loop.speech) == len(loop.noise) and loop.frames > 0
    for before, after in zip(loop.utterances, loop.utterances[1:], strict=False):
        assert before.last_frame < after.first_frame  # turns never overlap
    assert len(loop.ending) == len(loop.starting) == 12


def test_robot_loop_reports_its_talk_fraction() -> None:
    loop = build_loop(_sentences(CUSTOMER, 4, 2.0, None), seed=1)
    assert 0.3 < loop.talk_fraction == loop.customer_fraction < 0.8


def test_two_different_voices_per_counter() -> None:
    voices = ("a", "b", "c", "d", "e")
    pairs = [voice_pair(key, voices) for key in range(8)]
    assert all(customer != attendant for customer, attendant in pairs)
    assert {customer for customer, _ in pairs} == set(voices)
    assert voice_pair(0, ("x", "y")) == ("x", "y")


def test_complaints_fire_one_rule_each_and_the_rest_none() -> None:
    categorias = [expected_categoria(text) for text in COMPLAINTS]
    assert None not in categorias
    assert all(expected_categoria(text) is None for text in (*NEUTRAL, *ATTENDANT_LINES))


def _run(p95: float | None, dropped: float | None) -> dict[str, Any]:
    return {
        "delay_s": {"p50": 0.5, "p95": p95},
        "audio_dropped_s": dropped,
        "errors": [],
        "client_send_lag_max_s": 0.01,
    }


def test_capacity_criterion_fails_on_dropped_speech() -> None:
    assert holds(_run(1.4, 0.0), 1.5)
    assert not holds(_run(1.6, 0.0), 1.5)
    assert not holds(_run(None, 0.0), 1.5)
    assert not holds(_run(1.0, 0.001), 1.5)  # any speech dropped fails the rung
    assert not holds(_run(1.0, None), 1.5)  # the server did not say: cannot hold


def test_dropped_speech_is_rounded_up_and_missing_is_none() -> None:
    name = "balto_audio_dropped_seconds_total{}"
    assert server_counts({name: 1.0}, {name: 1.0})["audio_dropped_s"] == 0
    assert server_counts({name: 1.0}, {name: 1.0001})["audio_dropped_s"] == 0.001
    assert server_counts({}, {})["audio_dropped_s"] is None


def _results() -> dict[str, Any]:
    return {
        "meta": {"voice_model": "natural", "settings": {"capacity_p95_s": 1.5}},
        "latency": {
            "runs": [
                {"counters": n, "delay_s": {"p50": p50, "p95": p95}, "holds": p95 <= 1.5}
                for n, p50, p95 in ((1, 0.8, 1.0), (2, 0.9, 1.2), (4, 1.3, 1.9))
            ]
        },
        "capacity": {
            "p95_limit_s": 1.5,
            "counters": 3,
            "trials": [
                {"counters": 3, "p50_s": 1.0, "p95_s": 1.4, "holds": True},
                {"counters": 4, "p50_s": 1.3, "p95_s": 1.9, "holds": False},
                {"counters": 8, "p50_s": None, "p95_s": None, "holds": False},
            ],
        },
    }


def test_plot_points_join_latency_and_capacity_runs() -> None:
    points = latency_points(_results())
    assert [n for n, *_ in points] == [1, 2, 3, 4, 8]
    assert [ok for *_, ok in points] == [True, True, True, False, False]


@pytest.mark.skipif(importlib.util.find_spec("matplotlib") is None, reason="no matplotlib")
def test_plot_writes_a_png(tmp_path: Path) -> None:
    path = plot_latency(_results(), tmp_path / "out" / "latencia.png")
    assert path is not None and path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert plot_latency({"meta": {}}, tmp_path / "none.png") is None
