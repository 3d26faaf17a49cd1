"""Smoke test of the recognition-cost harness (``bench.asr``), not a benchmark.

Checks the harness's plumbing and the shape of its report; no timing is asserted. The run uses
our pipeline only, on the three short utterances of quick mode (a few seconds); the native row
is pointed at a missing venv so the skip path is exercised too.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from bench.speech import espeak_available

from bench import asr


def test_word_errors_ignore_case_accents_and_punctuation() -> None:
    assert asr.normalize_words("Vocês têm DIPIRONA?") == ["voces", "tem", "dipirona"]
    assert asr.word_errors("Boa tarde, vocês têm dipirona?", "boa tarde voces tem dipirona") == (
        0,
        5,
    )
    # one substitution, one deletion, one insertion
    assert asr.word_errors("a b c d", "a x c e f")[0] == 3
    assert asr.word_errors("a b", "") == (2, 2)


def test_rotation_gives_every_config_each_position() -> None:
    names = ["a", "b", "c"]
    orders = [asr._rotation(names, step) for step in range(3)]
    assert [order[0] for order in orders] == ["a", "b", "c"]
    assert all(sorted(order) == names for order in orders)


def test_vocabulary_from_tokenizer_orders_by_id() -> None:
    tokenizer = {
        "model": {"vocab": {"b": 1, "a": 0}},
        "added_tokens": [{"id": 2, "content": "<|endoftext|>"}],
    }
    assert asr.vocabulary_from_tokenizer(json.dumps(tokenizer).encode()) == [
        "a",
        "b",
        "<|endoftext|>",
    ]


def test_vocabulary_from_tokenizer_appends_timestamp_tokens() -> None:
    tokenizer = {
        "model": {"vocab": {"a": 0}},
        "added_tokens": [{"id": 1, "content": "<|notimestamps|>"}],
    }
    tokens = asr.vocabulary_from_tokenizer(json.dumps(tokenizer).encode())
    assert tokens[2:4] == ["<|0.00|>", "<|0.02|>"]
    assert tokens[-1] == "<|30.00|>" and len(tokens) == 2 + 1501


def test_utterance_set_is_well_formed() -> None:
    ids = [u.id for u in asr.UTTERANCES]
    assert len(ids) == len(set(ids))
    assert 12 <= len(ids) <= 16
    assert set(asr.QUICK_IDS) <= set(ids)
    assert len({u.voice for u in asr.UTTERANCES}) >= 3


def test_unknown_config_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown"):
        asr.run(quick=True, progress=lambda _: None, configs=["no-such-engine"])


@pytest.mark.slow
@pytest.mark.skipif(not espeak_available(), reason="espeak-ng missing (make test installs it)")
def test_quick_run_reports_every_field(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("BALTO_NATIVE_PYTHON", raising=False)
    messages: list[str] = []
    report = asr.run(
        quick=True,
        progress=messages.append,
        configs=["balto", "balto-native"],
        native_venv=tmp_path / "no-native-build",
    )

    assert messages, "progress is reported while it runs"
    assert {"machine", "settings", "utterances", "configs", "results", "skipped"} <= set(report)
    assert report["machine"]["cpu"]["model_name"]
    assert isinstance(report["machine"]["cpu"]["avx2"], bool)
    assert isinstance(report["machine"]["cpu"]["avx512"], list)
    assert "native_build_whispercpp" in report["skipped"]["balto-native"].replace("/", "_")
    assert len(report["utterances"]) == len(asr.QUICK_IDS)
    assert all(u["audio_s"] > 1.0 for u in report["utterances"])

    entry = report["results"]["balto"]
    assert entry["runs"] == len(asr.QUICK_IDS) and entry["failed_runs"] == 0
    for key in ("audio_s", "wall_s", "cpu_s", "wall_per_audio_s", "cpu_per_audio_s"):
        assert entry[key] > 0, key
    assert entry["wall_ratio_vs_balto"] == pytest.approx(1.0)
    assert entry["wer"] is not None and entry["wer"] >= 0
    assert entry["peak_rss_mib"] > 0
    assert all(run["text"].strip() for run in entry["transcripts"])
    assert report["configs"]["balto"]["load_s"] > 0

    json.dumps(report)  # the report is what main() writes as JSON
    table = asr.format_table(report)
    assert "| balto |" in table and "balto-native | skipped" in table
