"""Whisper's known hallucinations on silence and noise (subtitle credits, "Obrigado.", music).

The phrase list is data (``hallucinations.json``); matching is done on normalised text.
"""

from __future__ import annotations

import functools
import json
import re
import unicodedata
from dataclasses import dataclass
from importlib import resources

_NON_WORD = re.compile(r"[^0-9a-z]+")


def normalize(text: str) -> str:
    """Lower case, accents stripped, every run of non-alphanumerics collapsed to one space."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return _NON_WORD.sub(" ", bare).strip()


@dataclass(frozen=True, slots=True)
class HallucinationFilter:
    exact: frozenset[str]
    contains: tuple[str, ...]

    def is_hallucination(self, text: str) -> bool:
        """True when ``text`` carries no speech: empty after normalisation or a known phrase."""
        norm = normalize(text)
        if not norm:
            return True  # only punctuation, music notes, "..."
        if norm in self.exact:
            return True
        padded = f" {norm} "
        return any(fragment in padded for fragment in self.contains)


LOOP_MAX_UNIT_WORDS = 3  # "o que é o que é o que é…": a short unit repeated is noise
LOOP_MIN_REPEATS = 3
PROMPT_LEAK_WORDS = 7  # this many consecutive prompt words in the output = prompt echo


def repeating_unit(words: list[str]) -> int | None:
    """Length of the shortest unit that ``words`` repeats at least twice.

    The last copy may be cut short, down to a prefix of its last word (a token cap hit).
    """
    last = len(words) - 1
    for size in range(1, len(words) // 2 + 1):
        if all(words[i] == words[i % size] for i in range(size, last)) and words[
            last % size
        ].startswith(words[last]):
            return size
    return None


def echoes_prompt(words: list[str], prompt: str) -> bool:
    """True when ``words`` contain a run of :data:`PROMPT_LEAK_WORDS` consecutive prompt words."""
    source = normalize(prompt).split()
    if len(words) < PROMPT_LEAK_WORDS or len(source) < PROMPT_LEAK_WORDS:
        return False
    n = PROMPT_LEAK_WORDS
    runs = {tuple(source[i : i + n]) for i in range(len(source) - n + 1)}
    return any(tuple(words[i : i + n]) in runs for i in range(len(words) - n + 1))


def clean_transcript(
    text: str, prompt: str = "", hallucinations: HallucinationFilter | None = None
) -> str:
    """Whisper's raw output → what was said, or "" when it is a known artefact.

    Decoder loops ("Estou com dor. Estou com dor. Estou com…") are collapsed to one copy; short
    loops, echoes of the initial prompt and known phrases (credits, "Obrigado.") become "".
    """
    raw_words = text.split()
    words = [normalize(w) for w in raw_words]
    kept = [(raw, norm) for raw, norm in zip(raw_words, words, strict=True) if norm]
    raw_words, words = [r for r, _ in kept], [n for _, n in kept]
    unit = repeating_unit(words)
    if unit is not None:
        if unit <= LOOP_MAX_UNIT_WORDS and len(words) >= LOOP_MIN_REPEATS * unit:
            return ""
        raw_words, words = raw_words[:unit], words[:unit]
    if echoes_prompt(words, prompt):
        return ""
    cleaned = " ".join(raw_words)
    return "" if (hallucinations or default_filter()).is_hallucination(cleaned) else cleaned


@functools.cache
def default_filter() -> HallucinationFilter:
    raw = resources.files("balto.counter.asr").joinpath("hallucinations.json").read_text("utf-8")
    data = json.loads(raw)
    exact = frozenset(normalize(p) for p in data["exact"])
    # Whole words only: both the fragments and the text are padded with one space.
    contains = tuple(f" {normalize(p)} " for p in data["contains"])
    return HallucinationFilter(exact=exact, contains=contains)
