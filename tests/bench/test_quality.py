"""The quality report's harness: the labelled set's shape, the scoring, the tables.

The figures themselves come from ``python -m bench.quality``; here the plumbing is checked,
and one small real run (two real recordings, three labelled items) goes through the same
functions as the report, with the real model and the natural voices.
"""

from __future__ import annotations

import argparse
from collections import Counter

import pytest
from bench.quality import labelled, margin, real
from bench.quality.data import PARTS, REAL_DIR, Item, labelled_items, real_recordings
from bench.quality.report import markdown

from balto.counter.asr.base import DecodeOptions
from balto.counter.config import CounterConfig
from balto.counter.detect.loader import default_rules
from bench import cost


def _item(regras: set[str], tipo: str = "queixa", parte: str = "ajuste") -> Item:
    return Item("x", parte, tipo, frozenset(regras), ("texto",))


def test_labelled_set_covers_every_rule_in_both_parts() -> None:
    items = labelled_items()
    kinds = Counter(item.tipo for item in items)
    assert kinds["queixa"] >= 150 and kinds["neutra"] >= 150 and kinds["dialogo"] >= 20
    assert len({item.id for item in items}) == len(items)
    # The labelled set predates the referral rules (red flags): it has no complaints for them yet.
    rules = {rule.id for rule in default_rules().rules if not rule.is_referral}
    for part in PARTS:
        covered = Counter(r for item in items if item.parte == part for r in item.regras)
        assert set(covered) == rules, f"{part}: rules without a complaint"
        assert min(covered.values()) >= 4
    for item in items:
        assert (item.tipo == "neutra") == (not item.regras) or item.tipo == "dialogo"
        assert not any(ch.isdigit() for turn in item.turns for ch in turn), item.id
        assert (len(item.turns) >= 3) == (item.tipo == "dialogo"), item.id


def test_score_counts_hits_misses_and_false_alarms() -> None:
    score = labelled.Score()
    score.add(_item({"febre"}), frozenset({"febre"}))
    score.add(_item({"febre", "tosse"}), frozenset({"febre", "alergia"}))
    score.add(_item(set(), "neutra"), frozenset())
    score.add(_item(set(), "neutra"), frozenset({"tosse"}))
    s = score.summary()
    assert s["recall_frases"] == pytest.approx(1 / 2)
    assert s["recall_regras"] == pytest.approx(2 / 3)
    assert s["precisao"] == pytest.approx(2 / 4)
    assert (s["neutras"], s["neutras_com_alarme"]) == (2, 1)
    assert s["por_regra"]["tosse"] == {
        "acertos": 0,
        "perdidas": 1,
        "falsas": 1,
        "recall": 0.0,
        "precisao": 0.0,
    }


def test_score_counts_what_was_heard_word_by_word() -> None:
    item = Item("q", "ajuste", "queixa", frozenset({"tosse"}), ("tô com tosse", "seca"))
    score = labelled.Score()
    score.add(item, frozenset({"tosse"}), "tô com tosse")  # one word of four missing
    score.add(item, frozenset(), "to com torce seca")  # one of four wrong
    s = score.summary()
    assert s["wer"] == pytest.approx(2 / 8)
    assert s["recall_frases"] == 0.5
    assert labelled.Score().summary()["wer"] is None


def test_reading_scores_the_detector_on_the_items_own_text() -> None:
    items = [
        Item("q", "ajuste", "queixa", frozenset({"tosse"}), ("tô com tosse",)),
        Item("n", "ajuste", "neutra", frozenset(), ("vocês aceitam pix?",)),
    ]
    fired = {"tô com tosse": frozenset({"tosse"}), "vocês aceitam pix?": frozenset({"febre"})}
    result = labelled.measure_reading(fired.__getitem__, items)
    assert result["ajuste"]["recall_frases"] == 1.0
    assert result["ajuste"]["neutras_com_alarme"] == 1
    assert result["ajuste"]["wer"] is None  # nothing was heard


def test_tally_weighs_every_word_equally() -> None:
    tally = real.Tally()
    tally.add(1, 10, 2.0, 0.2, 0.4)
    tally.add(3, 10, 2.0, 0.2, 0.4)
    s = tally.summary()
    assert s["wer"] == pytest.approx(0.2)
    assert s["cpu_por_s_audio"] == pytest.approx(0.2)


@pytest.mark.slow
def test_small_real_run_through_the_report(transcriber) -> None:
    if not REAL_DIR.is_dir():
        pytest.skip("../shared/speech/real is not beside the repository")
    from bench.quality.pipeline import hearing, reading
    from bench.speech import natural_available

    if not natural_available():
        pytest.skip("Kokoro not installed")
    rules = default_rules()
    options = DecodeOptions()  # the server's (no prompt)
    recordings = [r for r in real_recordings() if r.source != "cetuc"][:2]
    wer = real.measure_wer(
        transcriber, options, recordings, rules, snrs_db=(None,), progress=lambda _: None
    )
    assert wer["limpo"]["outras"]["arquivos"] == 2
    assert wer["limpo"]["outras"]["wer"] < 0.5  # read speech: about 15%
    items = [
        Item(
            "q",
            "ajuste",
            "queixa",
            frozenset({"dor_costas_muscular"}),
            ("Tô com uma dor nas costas que não passa.",),
        ),
        Item("n", "reservada", "neutra", frozenset(), ("Vocês aceitam pix?",)),
        Item(
            "d",
            "ajuste",
            "dialogo",
            frozenset({"dor_garganta"}),
            ("Boa tarde, minha garganta tá doendo.", "Faz quanto tempo?", "Desde ontem."),
        ),
    ]
    hear = hearing(transcriber, CounterConfig.from_env({}), rules)
    ops = labelled.measure_opportunities(
        hear, items, conditions={"sala sem ruído": None}, progress=lambda _: None
    )
    assert ops["sala sem ruído"]["ajuste"]["recall_frases"] in (0.5, 1.0)  # accented voices slip
    assert ops["sala sem ruído"]["reservada"]["neutras_com_alarme"] == 0
    assert 0.0 <= ops["sala sem ruído"]["reservada"]["wer"] < 0.5  # "Vocês aceitam pix?"
    read = labelled.measure_reading(reading(rules), items)
    assert read["ajuste"]["recall_frases"] == 1.0 and read["reservada"]["neutras_com_alarme"] == 0
    table = markdown({"wer": wer, "oportunidades": ops, "leitura": read})
    assert "| limpo |" in table and "| sala sem ruído | reservada |" in table
    assert "| *texto exato* | ajuste | 100.0% |" in table


def test_margin_bench_refuses_negative_or_empty_margins() -> None:
    assert margin._margins("64, 32,16") == [64, 32, 16]
    for bad in ("", "64,-1", ","):
        with pytest.raises(argparse.ArgumentTypeError):
            margin._margins(bad)
    with pytest.raises(SystemExit):
        margin.main(["--margens", "-5"])


def test_cost_bench_refuses_a_negative_margin(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        cost.main(["--margem", "-1"])
    assert "--margem" in capsys.readouterr().err
