"""How a normalised Portuguese word sounds, spelled one way (sans-IO).

Whisper writes what it hears, and Brazilian Portuguese spells many sounds in several ways:
"enxaqueca" / "enchaqueca", "cólica" / "kolica", "xarope" / "charope", "cabeça" / "cabesa",
"inchado" / "inxado", "doendo" / "doemdo". Comparing spellings letter by letter counts each of
these as one or two errors, and a short word has no room for two. :func:`sound_key` maps every
spelling of a sound to one spelling, so that the matcher can compare what the words sound
like, with the same edit tolerance, instead of keeping a growing list of slips.

The key is deliberately coarse and only ever used for fuzzy matching: an *exact* match (the
anchor every phrase needs) is still an exact spelling, so a one-word trigger such as "azia"
does not fire on "Ásia" because they sound alike.

Input: a word as :func:`balto.counter.detect.normalize.normalize` writes it (lowercase ASCII
letters and digits, accents stripped: "ç" arrives as "c", so a "c" before a/o/u is read as
"ç" between vowels, where Whisper's "s" slips happen, and as a hard "k" elsewhere).
"""

from __future__ import annotations

import functools
import re

_RULES: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern), replacement)
    for pattern, replacement in (
        (r"^h", ""),  # silent h
        (r"[cs]h", "x"),  # chá, xá, show
        (r"lh", "li"),  # olho / olio
        (r"nh", "ni"),  # inchado, dorzinha / dorzinia
        (r"qu(?=[ei])", "k"),  # queima / keima
        (r"gu(?=[ei])", "g"),  # sangue / sange
        (r"sc(?=[ei])", "s"),  # nascer / naser
        (r"c(?=[ei])", "s"),  # cera / sera
        (r"g(?=[ei])", "j"),  # gengiva / jenjiva
        (r"qu", "ku"),
        (r"(?<=[aeiou])c(?=[aou])", "s"),  # between vowels mostly a folded ç: cabeça / cabesa
        (r"[cq]", "k"),  # cólica / kolika
        (r"z", "s"),  # azia / asia: s and z are one sound to a slip
        (r"ss", "s"),  # tosse / tose
        (r"rr", "r"),
        (r"y", "i"),
        (r"w", "u"),
        (r"h", ""),  # any other h is silent too
        (r"l(?=[^aeiou]|$)", "u"),  # coda l: alto / auto, mal / mau
        (r"m(?=[^aeiou]|$)", "n"),  # nasal coda: doemdo / doendo, tampa / tanpa
        (r"e$", "i"),  # unstressed final vowels: tosse / tossi, febre / febri
        (r"o$", "u"),  # enjoado / enjoadu
        (r"es$", "is"),
        (r"os$", "us"),
        (r"(.)\1+", r"\1"),  # doubled letters
    )
)


@functools.lru_cache(maxsize=65_536)
def sound_key(word: str) -> str:
    """``"enchaqueca"`` and ``"enxaqueca"`` → ``"enxakeka"``; digits are left alone.

    Coarser than pronunciation on purpose: s, ss, z, ç and soft c are all "s" (Whisper's
    "cabesa" for "cabeça" is a spelling slip, not a voiced s)."""
    key = word
    for pattern, replacement in _RULES:
        key = pattern.sub(replacement, key)
    return key or word
