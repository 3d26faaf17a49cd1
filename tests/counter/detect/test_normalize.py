from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from balto.counter.detect.normalize import (
    STOPWORDS,
    analyse,
    content_words,
    fold,
    is_stopword,
    normalize,
    tokenize,
)


def test_lowercases_strips_accents_and_punctuation() -> None:
    assert normalize("Tô com DOR de cabeça!!! Não é?") == "to com dor de cabeca nao e"
    assert normalize("  Ânsia   de\tvômito\n") == "ansia de vomito"
    assert normalize("coração, açúcar; pés") == "coracao acucar pes"


def test_keeps_numbers() -> None:
    assert tokenize("Febre de 38,5 graus há 2 dias") == [
        "febre",
        "de",
        "38",
        "5",
        "graus",
        "ha",
        "2",
        "dias",
    ]


def test_hyphens_and_apostrophes_split_words() -> None:
    assert tokenize("mal-estar d'água") == ["mal", "estar", "d", "agua"]


def test_empty_and_punctuation_only() -> None:
    assert normalize("") == ""
    assert tokenize("?!... ,") == []
    assert analyse("...").words == ()


def test_stopwords_are_normalised_and_exclude_negations() -> None:
    assert all(w == normalize(w) for w in STOPWORDS)
    for word in (
        "de",
        "da",
        "do",
        "das",
        "dos",
        "na",
        "no",
        "a",
        "o",
        "e",
        "um",
        "com",
        "em",
        "me",
        "minha",
        "meu",
        "to",
        "ta",
        "estou",
    ):
        assert is_stopword(word)
    for word in ("nao", "sem", "nem", "nunca", "dor", "febre", "para", "mais"):
        assert not is_stopword(word)


def test_content_words() -> None:
    assert content_words("Tô com uma dor nas minhas costas") == ["dor", "costas"]


def test_analyse_tracks_sentences_and_clauses() -> None:
    tokens = analyse("Não. Tô com febre, e tosse; dor... nas costas")
    assert tokens.words == ("nao", "to", "com", "febre", "e", "tosse", "dor", "nas", "costas")
    assert tokens.sentence[0] != tokens.sentence[1]
    assert tokens.clause[3] != tokens.clause[4]
    assert tokens.sentence[3] == tokens.sentence[4]
    # "..." is a hesitation, not a sentence end
    assert tokens.sentence[6] == tokens.sentence[8]
    assert tokens.content == (0, 3, 5, 6, 8)
    assert tokens.span(6, 9) == "dor nas costas"


def test_decimal_comma_is_not_a_clause_break() -> None:
    tokens = analyse("38,5 de febre")
    assert tokens.clause[0] == tokens.clause[1] == tokens.clause[3]


@given(st.text())
def test_normalize_is_idempotent_and_ascii(text: str) -> None:
    once = normalize(text)
    assert normalize(once) == once
    assert all(ch == " " or (ch.isascii() and ch.isalnum() and not ch.isupper()) for ch in once)
    assert "  " not in once
    assert once == once.strip()


@given(st.text())
def test_analyse_agrees_with_tokenize(text: str) -> None:
    tokens = analyse(text)
    assert list(tokens.words) == tokenize(text)
    assert len(tokens.sentence) == len(tokens.clause) == len(tokens.words)


def test_fold_keeps_punctuation() -> None:
    assert fold("Ç, É!") == "c, e!"
