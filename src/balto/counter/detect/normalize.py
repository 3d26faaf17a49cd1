"""Portuguese text normalisation for phrase matching.

``normalize`` lowercases, strips accents (NFKD, combining diacritics dropped), turns every
non-alphanumeric character into a space and collapses whitespace; digits are kept.
``analyse`` does the same but also remembers where sentences (``. ! ? ;``) and clauses
(``, :``) end, because phrase matches stay inside a sentence and negations inside a clause.

``STOPWORDS`` is the single list of words that are ignored for matching (articles,
prepositions, possessives, pronouns and the filler "tô/tá/estou" of spoken Portuguese).
Negation words ("não", "sem", "nem" ...) are deliberately *not* stopwords.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

# Normalised form (lowercase, no accents). Keep this the only list of ignored words.
STOPWORDS: frozenset[str] = frozenset(
    {
        # articles
        "a", "o", "as", "os", "um", "uma", "uns", "umas",
        # prepositions and contractions
        "de", "da", "do", "das", "dos", "d", "em", "na", "no", "nas", "nos", "num", "numa",
        "com", "ao", "aos", "pra", "pro", "pras", "pros", "pela", "pelo", "pelas", "pelos",
        "por", "dum", "duma",
        # conjunctions and particles ("e" also covers "é")
        "e", "que", "se", "ou", "ne", "ai", "la", "entao", "tipo", "assim",
        # pronouns and possessives
        "eu", "me", "mim", "comigo", "te", "ti", "lhe", "ele", "ela", "eles", "elas", "voce",
        "meu", "minha", "meus", "minhas", "teu", "tua", "seu", "sua", "seus", "suas",
        "nosso", "nossa", "dele", "dela",
        # demonstratives
        "esse", "essa", "isso", "este", "isto", "aquele", "aquela", "aquilo",
        # filler forms of "estar" ("tô com", "tá doendo", "estou com")
        "to", "tou", "ta", "tao", "estou", "esta", "estava", "tava", "estamos",
    }
)  # fmt: skip

_HESITATION = re.compile(r"\.{2,}")  # "dor... nas costas" is one sentence
_DIGIT_SEPARATOR = re.compile(r"(?<=\d)[.,](?=\d)")  # "38,5" is not a clause break
_SENTENCE_BREAK = re.compile(r"[.!?;]+")
_CLAUSE_BREAK = re.compile(r"[,:]+")
_NON_WORD = re.compile(r"[^a-z0-9]+")
# Combining diacritical marks: what NFKD splits off "á ã â à ç é ê í ó ô õ ú ü". Rarer marks
# from other blocks are left in place and, being non-alphanumeric, end up as word breaks.
_COMBINING_MARKS = re.compile(r"[\u0300-\u036f]+")


def fold(text: str) -> str:
    """Lowercase and strip accents; punctuation is kept."""
    lowered = text.lower()
    if lowered.isascii():
        return lowered
    return _COMBINING_MARKS.sub("", unicodedata.normalize("NFKD", lowered))


def normalize(text: str) -> str:
    """``"Tô com DOR nas costas!"`` → ``"to com dor nas costas"``."""
    return " ".join(tokenize(text))


def tokenize(text: str) -> list[str]:
    """All normalised words of ``text``, stopwords included."""
    return _NON_WORD.sub(" ", fold(text)).split()


def is_stopword(word: str) -> bool:
    """Whether a *normalised* word is ignored for matching."""
    return word in STOPWORDS


def content_words(text: str) -> list[str]:
    """The normalised words of ``text`` that take part in matching."""
    return [w for w in tokenize(text) if w not in STOPWORDS]


@dataclass(frozen=True, slots=True)
class Tokens:
    """A normalised text: its words and, per word, a sentence and a clause number."""

    words: tuple[str, ...]
    sentence: tuple[int, ...]
    clause: tuple[int, ...]
    content: tuple[int, ...]  # indices into ``words`` of the non-stopwords

    def span(self, start: int, end: int) -> str:
        """The words ``start .. end - 1`` joined by spaces."""
        return " ".join(self.words[start:end])


def analyse(text: str) -> Tokens:
    """Normalise ``text`` keeping sentence and clause boundaries.

    ``analyse(t).words == tuple(tokenize(t))`` for every text ``t``.
    """
    folded = _DIGIT_SEPARATOR.sub(" ", _HESITATION.sub(" ", fold(text)))
    words: list[str] = []
    sentence: list[int] = []
    clause: list[int] = []
    clause_no = 0
    for sentence_no, sentence_text in enumerate(_SENTENCE_BREAK.split(folded)):
        for clause_text in _CLAUSE_BREAK.split(sentence_text):
            found = _NON_WORD.sub(" ", clause_text).split()
            if not found:
                continue
            words.extend(found)
            sentence.extend([sentence_no] * len(found))
            clause.extend([clause_no] * len(found))
            clause_no += 1
    content = tuple(i for i, w in enumerate(words) if w not in STOPWORDS)
    return Tokens(tuple(words), tuple(sentence), tuple(clause), content)
