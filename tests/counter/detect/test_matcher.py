from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from balto.counter.detect import default_rules, find_opportunities
from balto.counter.detect.matcher import (
    Phrase,
    PhraseMatch,
    PhraseMatcher,
    edit_distance,
    plural_equal,
    words_match,
)
from balto.counter.detect.normalize import analyse, content_words, normalize


def matcher(*phrases: str, exact: bool = False) -> PhraseMatcher:
    return PhraseMatcher([Phrase(tuple(content_words(p)), exact=exact) for p in phrases])


def spans(m: PhraseMatcher, text: str) -> list[str]:
    tokens = analyse(text)
    return [tokens.span(x.start, x.end) for x in m.find(tokens)]


@pytest.mark.parametrize(
    ("expected", "heard", "ok"),
    [
        # short words: exact, or one substitution keeping the first letter
        ("dor", "dor", True),
        ("dor", "dar", True),
        ("dor", "doi", True),
        ("dor", "por", False),
        ("dor", "cor", False),
        ("dor", "dores", False),
        ("dor", "do", False),
        ("pe", "pes", True),  # plural
        # 4-6 letters: one edit
        ("costas", "costa", True),
        ("costas", "custa", False),
        ("tosse", "tose", True),
        ("tosse", "posso", False),
        # same sound, other spelling: the sound key absorbs it
        ("xarope", "charope", True),
        ("colica", "kolika", True),
        ("cabeca", "kabesa", True),
        ("doendo", "doemdo", True),
        ("tosse", "tossir", True),  # "tosi" / "tosir": one edit in sound
        ("febre", "febri", True),
        # 7+ letters: two edits
        ("garganta", "garganda", True),
        ("garganta", "garanta", True),
        ("garganta", "gargalhada", False),
        ("alergia", "energia", True),  # only ever as a non-anchor word, see below
    ],
)
def test_words_match(expected: str, heard: str, ok: bool) -> None:
    assert words_match(expected, heard) is ok


def test_plural_equal() -> None:
    assert plural_equal("costa", "costas")
    assert plural_equal("costas", "costa")
    assert not plural_equal("costas", "costo")


@given(st.text("abcde", max_size=8), st.text("abcde", max_size=8), st.integers(0, 3))
def test_edit_distance_is_bounded_levenshtein(a: str, b: str, limit: int) -> None:
    # reference: unbounded dynamic programming
    row = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        prev, row[0] = row[0], i
        for j, cb in enumerate(b, 1):
            prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (ca != cb))
    assert edit_distance(a, b, limit) == min(row[-1], limit + 1)


def test_lookup_finds_every_fuzzy_candidate() -> None:
    vocabulary = ["dor", "cabeca", "garganta", "costas", "pe"]
    m = matcher(*vocabulary)
    for heard in ["dar", "cabeça", "cabesa", "garganda", "costa", "pes", "por", "xyz"]:
        heard = normalize(heard)
        found = {m.phrases[i].words[0] for i, _ in m.lookup(heard)}
        assert found == {w for w in vocabulary if words_match(w, heard)}


def test_gaps_up_to_two_words() -> None:
    m = matcher("dor nas costas")
    assert spans(m, "dor muito forte nas costas") == ["dor muito forte nas costas"]
    assert spans(m, "dor muito forte mesmo nas costas") == []
    # stopwords do not count as gap
    assert spans(m, "dor de novo na minha costas") == ["dor de novo na minha costas"]


def test_words_must_be_in_order_and_in_one_sentence() -> None:
    m = matcher("dor nas costas")
    assert spans(m, "as costas com dor") == []
    assert spans(m, "Senti dor. Nas costas tem uma mancha") == []
    assert spans(m, "dor, nas costas") == ["dor nas costas"]


def test_needs_one_exact_anchor() -> None:
    m = matcher("dor nas costas", "alergia")
    assert spans(m, "dar nas costas") == ["dar nas costas"]
    assert spans(m, "dar nas costa") == ["dar nas costa"]  # plural counts as exact
    assert spans(m, "dar nas custas") == []
    assert spans(m, "estou sem energia") == []


def test_exact_phrases_refuse_slips() -> None:
    m = matcher("febre amarela", exact=True)
    assert spans(m, "vacina de febre amarela") == ["febre amarela"]
    assert spans(m, "vacina de febri amarela") == []


def test_backtracking_finds_a_later_alignment() -> None:
    # greedy "b" at the first position would leave "c" out of reach
    m = PhraseMatcher([Phrase(("aaaa", "bbbb", "cccc"))])
    tokens = analyse("aaaa bbbb xx bbbb yy zz cccc")
    assert m.find(tokens) == [PhraseMatch(0, 0, 7)]


def test_every_occurrence_is_reported() -> None:
    m = matcher("febre")
    assert spans(m, "febre hoje, febre ontem") == ["febre", "febre"]


def test_rejects_empty_phrase() -> None:
    with pytest.raises(ValueError):
        PhraseMatcher([Phrase(())])


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        ("Estou com uma tossa que não passa.", "tosse"),  # whisper's slips on real clips
        ("Tendo muita asia depois do almoço.", "azia_ma_digestao"),
        ("tenho febri desde ontem", "febre"),
    ],
)
def test_one_slip_after_a_complaint_cue_matches(text, rule):
    assert [o.rule_id for o in find_opportunities(default_rules(), text)] == [rule]


@pytest.mark.parametrize(
    "text",
    ["Fiz uma viagem para a Ásia.", "A tossa do vizinho.", "Estou com fome.", "tenho fé"],
)
def test_one_slip_without_a_cue_or_too_far_does_not(text):
    assert find_opportunities(default_rules(), text) == []
