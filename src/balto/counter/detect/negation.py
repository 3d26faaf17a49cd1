"""Negated complaints: "não tenho febre", "sem febre", "tosse não".

A phrase occurrence is negated when, inside its clause (commas end a clause):

* a negation word precedes it, separated only by stopwords and at most
  ``MAX_LINKING_WORDS`` linking words ("não tenho febre", "não estou com dor",
  "nunca tive enxaqueca", "não tenho mais febre"); or
* a negation word follows it and ends the clause or is followed by a linking word
  ("tosse não", "febre não tenho").

Anything else between the negation and the complaint breaks the scope, so the many
Portuguese ways of *confirming* a complaint with "não" still fire: "não aguento mais essa
dor de cabeça", "a tosse não passa", "não consigo dormir de dor nas costas", "não para de
tossir".

A complaint that is over is treated the same way: a resolution verb right after it ("a tosse
já sarou", "a febre passou") or right before it ("já sarei da gripe", "passou a dor de
cabeça"), with only stopwords and "já" between, in the same clause, and not itself negated
("a dor não passou" still fires).
"""

from __future__ import annotations

from balto.counter.detect.normalize import STOPWORDS, Tokens

NEGATION_WORDS: frozenset[str] = frozenset(
    {"nao", "nunca", "nem", "sem", "jamais", "nenhum", "nenhuma", "nada"}
)

# Verbs of having/feeling/being and intensifiers that may sit between a negation and the
# complaint it negates. Normalised (no accents); "estou/tô/tá" are stopwords already.
LINKING_WORDS: frozenset[str] = frozenset(
    {
        "tenho", "tem", "tive", "teve", "tinha", "temos", "tiveram", "tiver",
        "sinto", "sente", "senti", "sentiu", "sentindo", "sentia",
        "estive", "esteve", "estao", "sou", "era", "foi", "fui",
        "fiquei", "ficou", "fica", "ando", "anda", "andei", "andou",
        "mais", "muito", "muita", "nenhum", "nenhuma",
    }
)  # fmt: skip

MAX_LINKING_WORDS = 2

# Past forms that say a complaint is over. Normalised.
RESOLUTION_WORDS: frozenset[str] = frozenset(
    {"sarou", "sarei", "sarar", "curou", "curei", "passou", "sumiu", "melhorou", "melhorei"}
)
_ALREADY = "ja"


def is_negated(tokens: Tokens, start: int, end: int) -> bool:
    """Whether the occurrence over ``tokens.words[start:end]`` is negated."""
    return (
        _negated_before(tokens, start)
        or _negated_after(tokens, end - 1)
        or _resolved(tokens, start, end - 1)
    )


def _resolved(tokens: Tokens, first: int, last: int) -> bool:
    after = _next_word(tokens, last, +1)
    if after is not None and tokens.words[after] in RESOLUTION_WORDS:
        return True  # "a tosse não sarou": the next word is "não", not a resolution
    before = _next_word(tokens, first, -1)
    if before is not None and tokens.words[before] in RESOLUTION_WORDS:
        previous = _next_word(tokens, before, -1)
        return previous is None or tokens.words[previous] not in NEGATION_WORDS
    return False


def _next_word(tokens: Tokens, index: int, step: int) -> int | None:
    """The next word from ``index`` in direction ``step`` in the same clause, skipping
    stopwords and "já"; None at the clause's edge."""
    clause = tokens.clause[index]
    i = index + step
    while 0 <= i < len(tokens.words) and tokens.clause[i] == clause:
        word = tokens.words[i]
        if word not in STOPWORDS and word != _ALREADY:
            return i
        i += step
    return None


def _negated_before(tokens: Tokens, start: int) -> bool:
    clause = tokens.clause[start]
    linking = 0
    for i in range(start - 1, -1, -1):
        if tokens.clause[i] != clause:
            return False
        word = tokens.words[i]
        if word in NEGATION_WORDS:
            return True
        if word in STOPWORDS:
            continue
        if word not in LINKING_WORDS or linking == MAX_LINKING_WORDS:
            return False
        linking += 1
    return False


def _negated_after(tokens: Tokens, last: int) -> bool:
    clause = tokens.clause[last]
    following: list[str] = []
    for i in range(last + 1, len(tokens.words)):
        if tokens.clause[i] != clause or len(following) == 2:
            break
        if tokens.words[i] not in STOPWORDS:
            following.append(tokens.words[i])
    if not following or following[0] not in NEGATION_WORDS:
        return False
    return len(following) == 1 or following[1] in LINKING_WORDS
