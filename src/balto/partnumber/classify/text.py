"""Text normalisation shared by the catalog, the glossary and the lexical index."""

from __future__ import annotations

import re
import unicodedata

_WORD = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
_PARTNUMBER_JUNK = re.compile(r"[^A-Z0-9]")


def _wordset(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Portuguese function words and packaging/measure words that say nothing about the goods.
PT_STOPWORDS = _wordset(
    """
    a o as os um uma uns umas de do da dos das no na nos nas em e ou com sem para por pelo
    pela ao aos que se tipo cx caixa pct pacote kit und un unid unidade unidades peca pc pcs
    embalagem cor modelo marca tamanho ref referencia codigo lado novo nova original linha
    mm cm m metro metros kg g mg ml l litro litros w v a mah ah pol polegada polegadas x n
    nº ate sobre entre cada grande pequeno medio
    """
)

# English words of the nomenclature that only structure the text.
EN_STOPWORDS = _wordset(
    """
    a an the of or and in on for to with by from not than other others whether its their
    thereof be is are as at this that such which those these n.e.c nec heading headings item
    items no chapter subheading note notes kind kinds used including incl excluding excl but
    only
    """
)


def fold(text: str) -> str:
    """Lowercase and strip accents ("Câmera" -> "camera")."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def words(text: str) -> list[str]:
    """Accent-free lowercase word tokens; hyphenated compounds stay whole."""
    return _WORD.findall(fold(text))


def stem_pt(word: str) -> str:
    """Light Portuguese singularisation ("pastilhas" -> "pastilha", "botões" -> "botao")."""
    if len(word) <= 3 or word.isdigit():
        return word
    for suffix, replacement in (
        ("oes", "ao"),
        ("aes", "ao"),
        ("ais", "al"),
        ("eis", "el"),
        ("ois", "ol"),
        ("res", "r"),
        ("zes", "z"),
        ("ns", "m"),
    ):
        if word.endswith(suffix) and len(word) > len(suffix) + 2:
            return word[: -len(suffix)] + replacement
    if word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


def stem_en(word: str) -> str:
    """Light English singularisation ("batteries" -> "battery", "brakes" -> "brake")."""
    if len(word) <= 3 or word.isdigit():
        return word
    if word.endswith("ies"):
        return word[:-3] + "y"
    if word.endswith(("ches", "shes", "sses", "xes")):
        return word[:-2]
    if word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def pt_terms(text: str) -> list[str]:
    """Content terms of a Portuguese text: folded, singularised, without stopwords or numbers."""
    out = []
    for word in words(text):
        if word in PT_STOPWORDS or not any(c.isalpha() for c in word):
            continue
        if len(word) < 2:
            continue
        out.append(stem_pt(word))
    return out


def en_terms(text: str) -> list[str]:
    """Content terms of an English text, singularised, without stopwords or numbers."""
    out = []
    for word in words(text):
        for part in (word, *word.split("-")) if "-" in word else (word,):
            if part in EN_STOPWORDS or len(part) < 2 or not any(c.isalpha() for c in part):
                continue
            out.append(stem_en(part))
    return out


def normalize_partnumber(partnumber: str) -> str:
    """Canonical partnumber key: uppercase alphanumerics only ("ab-12.3 x" -> "AB123X")."""
    return _PARTNUMBER_JUNK.sub("", fold(partnumber).upper())


def normalize_manufacturer(name: str | None) -> str:
    """Canonical manufacturer key: folded words joined by one space."""
    return " ".join(words(name or ""))
