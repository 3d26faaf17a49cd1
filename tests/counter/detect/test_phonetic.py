"""One spelling per sound: Whisper's spellings of one Portuguese word share a key."""

from __future__ import annotations

import pytest

from balto.counter.detect import default_rules, find_opportunities
from balto.counter.detect.phonetic import sound_key


@pytest.mark.parametrize(
    ("written", "heard"),
    [
        ("enxaqueca", "enchaqueca"),
        ("xarope", "charope"),
        ("cabeca", "cabesa"),  # "cabeça" folded: ç between vowels
        ("queimacao", "queimasao"),
        ("inchado", "inxado"),
        ("doendo", "doemdo"),
        ("azia", "asia"),
        ("gengiva", "jenjiva"),
        ("hematoma", "ematoma"),
        ("dorzinha", "dorzinia"),
        ("resfriado", "rresfriadu"),
    ],
)
def test_spellings_of_one_sound_share_a_key(written: str, heard: str) -> None:
    assert sound_key(written) == sound_key(heard)


@pytest.mark.parametrize(("a", "b"), [("dor", "por"), ("tosse", "posso"), ("febre", "pobre")])
def test_other_words_keep_other_keys(a: str, b: str) -> None:
    assert sound_key(a) != sound_key(b)


def test_a_sound_alike_never_anchors_a_one_word_trigger() -> None:
    rules = default_rules()
    assert find_opportunities(rules, "vou viajar para a Ásia amanhã") == []
    assert [o.rule_id for o in find_opportunities(rules, "tô com o pé enxado")] == [
        "torcao_contusao"
    ]
