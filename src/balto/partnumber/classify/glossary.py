"""Portuguese -> English bridge: a hand-written general trade glossary (``data/glossario.txt``).

Buyers describe goods in Portuguese; the WCO nomenclature is English. The multilingual encoder
bridges the languages only roughly, so the query is also translated term by term (longest
glossary phrase first). Words the glossary lacks but the English nomenclature uses verbatim
("smartphone", "led", "usb") pass through; anything else (brands, models) is dropped.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from importlib import resources

from balto.partnumber.classify.text import PT_STOPWORDS, stem_pt, words

_MAX_PHRASE = 4


@dataclass(frozen=True, slots=True)
class Translation:
    """English rendering of a Portuguese description."""

    segments: tuple[str, ...]  # English rendering of each understood Portuguese term, in order
    known: int  # how many Portuguese content words were understood (glossary or verbatim)
    unknown: tuple[str, ...]  # content words neither in the glossary nor in the nomenclature

    @property
    def text(self) -> str:
        """English words, for the sentence encoder."""
        return " ".join(self.segments)


class Glossary:
    def __init__(self, entries: dict[tuple[str, ...], str]) -> None:
        self._entries = entries

    @classmethod
    def load_default(cls) -> Glossary:
        raw = resources.files(__package__).joinpath("data/glossario.txt").read_text("utf-8")
        return cls.parse(raw)

    @classmethod
    def parse(cls, raw: str) -> Glossary:
        entries: dict[tuple[str, ...], str] = {}
        for line in raw.splitlines():
            line = line.strip()
            if not line or line.startswith("#") or "=" not in line:
                continue
            source, _, target = line.partition("=")
            key = tuple(stem_pt(w) for w in words(source))
            if key and target.strip():
                entries[key] = target.strip()
        return cls(entries)

    def __len__(self) -> int:
        return len(self._entries)

    def _lookup(self, key: tuple[str, ...]) -> str | None:
        """Glossary entry for ``key``; a feminine adjective also finds its masculine form
        ("eletrica" -> "eletrico", "descartaveis" -> "descartavel")."""
        found = self._entries.get(key)
        if found is None and key[-1].endswith("a") and len(key[-1]) > 3:
            found = self._entries.get((*key[:-1], key[-1][:-1] + "o"))
        return found

    def translate(self, text: str, vocabulary: Collection[str]) -> Translation:
        """Translate ``text``; ``vocabulary`` holds the folded words of the English nomenclature."""
        raw = words(text)
        tokens = [stem_pt(w) for w in raw]
        out: list[str] = []
        unknown: list[str] = []
        known = 0
        i = 0
        while i < len(tokens):
            for size in range(min(_MAX_PHRASE, len(tokens) - i), 0, -1):
                target = self._lookup(tuple(tokens[i : i + size]))
                if target is not None and not (size == 1 and tokens[i] in PT_STOPWORDS):
                    out.append(target)
                    known += 1
                    i += size
                    break
            else:
                word = raw[i]
                if word not in PT_STOPWORDS and any(c.isalpha() for c in word):
                    if word in vocabulary and len(word) > 2:
                        out.append(word)
                        known += 1
                    elif len(word) > 2 and not any(c.isdigit() for c in word):
                        unknown.append(word)
                i += 1
        return Translation(tuple(out), known, tuple(unknown))
