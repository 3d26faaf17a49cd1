"""Fuzzy phrase matching that tolerates speech-recognition slips.

A phrase is a sequence of normalised content words (stopwords removed). It occurs in a text
when each of its words matches a content word of the text, in order, inside one sentence,
with at most ``max_gap`` other content words between consecutive phrase words
("dor muito forte nas costas" contains "dor nas costas").

Word tolerance depends on the length of the phrase word (see ``words_match``): short words
(≤ 3 letters) allow one substitution that keeps the first letter ("dar" ↔ "dor", but not
"por"/"cor" ↔ "dor"); 4–6 letters allow one edit; 7 or more allow two. A trailing plural "s"
counts as exact. The same tolerance applies a second time to what the words sound like
(:func:`balto.counter.detect.phonetic.sound_key`), so Whisper's spellings of one sound
("enchaqueca", "charope", "kolika", "cabesa") cost nothing. Two guards keep false positives
down:

* a phrase occurrence needs at least one *exact* word (its anchor), so a one-word phrase
  only matches exactly ("energia" never becomes "alergia") and "dar as costa" is too far
  from "dor nas costas";
* ``Phrase.exact`` phrases (used for vetoes) accept exact words only.

One relaxation: a one-word phrase heard with a single slip ("tossa" for "tosse", "asia" for
"azia") matches when a complaint cue stands just before it in the same sentence ("estou com
uma tossa", "tenho muita asia"), the word has at least 4 letters and keeps its first letter.
A bare "Ásia" ("viagem para a Ásia") still never becomes "azia".

Everything that depends only on the phrases is precomputed: the phrase vocabulary, a
deletion index over it (SymSpell style: two words within edit distance k share a string
obtained by deleting at most k letters from each) and a per-matcher cache from heard word to
matching phrase words, so repeated interim transcripts cost little.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from balto.counter.detect.normalize import Tokens
from balto.counter.detect.phonetic import sound_key

MAX_GAP = 2
CUE_WINDOW = 3  # words before a one-word phrase where a complaint cue may stand
COMPLAINT_CUES = frozenset(
    {
        "estou",
        "to",
        "tou",
        "ta",
        "esta",
        "estava",
        "tenho",
        "tem",
        "tive",
        "sinto",
        "senti",
        "sentindo",
        "peguei",
        "muita",
        "muito",
        "com",
        "uma",
        "um",
        "forte",
        "crise",
    }
)
SHORT_WORD = 3  # up to this length: exact or one same-first-letter substitution
MEDIUM_WORD = 6  # up to this length: one edit; longer: two
_CACHE_SIZE = 20_000
_NO_WORDS: dict[int, bool] = {}  # shared, never mutated


def tolerance(word: str) -> int:
    """Edits allowed when a heard word is compared with phrase word ``word``."""
    return 1 if len(word) <= MEDIUM_WORD else 2


def plural_equal(expected: str, heard: str) -> bool:
    """Equal, or equal up to one trailing "s" ("costa" / "costas")."""
    if expected == heard:
        return True
    if len(heard) == len(expected) + 1:
        return heard[-1] == "s" and heard.startswith(expected)
    if len(expected) == len(heard) + 1:
        return expected[-1] == "s" and expected.startswith(heard)
    return False


def edit_distance(a: str, b: str, limit: int) -> int:
    """Levenshtein distance of ``a`` and ``b``, or ``limit + 1`` when it exceeds ``limit``."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        if min(current) > limit:
            return limit + 1
        previous = current
    return min(previous[-1], limit + 1)


def words_match(expected: str, heard: str) -> bool:
    """Whether ``heard`` (from the transcript) may stand for phrase word ``expected``: close
    enough in spelling, or in sound."""
    return _close(expected, heard) or _close(sound_key(expected), sound_key(heard))


def _close(expected: str, heard: str) -> bool:
    if plural_equal(expected, heard):
        return True
    if len(expected) <= SHORT_WORD:
        return (
            len(heard) == len(expected)
            and heard[0] == expected[0]
            and sum(x != y for x, y in zip(expected, heard, strict=True)) == 1
        )
    limit = tolerance(expected)
    return edit_distance(expected, heard, limit) <= limit


def _deletions(word: str, depth: int) -> set[str]:
    """``word`` and every string obtained by deleting up to ``depth`` (≤ 2) letters."""
    n = len(word)
    found = {word}
    found.update(word[:i] + word[i + 1 :] for i in range(n))
    if depth >= 2:
        found.update(word[:i] + word[i + 1 : j] + word[j + 1 :] for j in range(n) for i in range(j))
    return found


@dataclass(frozen=True, slots=True)
class Phrase:
    """Normalised content words to look for; ``exact`` disables fuzzy word matching."""

    words: tuple[str, ...]
    exact: bool = False


@dataclass(frozen=True, slots=True, order=True)
class PhraseMatch:
    """Phrase ``phrase`` occurs over ``Tokens.words[start:end]``."""

    phrase: int
    start: int
    end: int


class PhraseMatcher:
    """Finds every occurrence of a fixed list of phrases in analysed texts."""

    def __init__(self, phrases: Sequence[Phrase], *, max_gap: int = MAX_GAP) -> None:
        if max_gap < 0:
            raise ValueError("max_gap must be >= 0")
        self.phrases: tuple[Phrase, ...] = tuple(phrases)
        self._max_gap = max_gap
        vocabulary: dict[str, int] = {}
        self._phrase_ids: list[tuple[int, ...]] = []
        self._phrase_sets: list[frozenset[int]] = []
        self._by_first: dict[int, list[int]] = {}
        for index, phrase in enumerate(self.phrases):
            if not phrase.words:
                raise ValueError(f"phrase {index} has no words")
            ids = tuple(vocabulary.setdefault(w, len(vocabulary)) for w in phrase.words)
            self._phrase_ids.append(ids)
            self._phrase_sets.append(frozenset(ids))
            self._by_first.setdefault(ids[0], []).append(index)
        self._vocabulary: tuple[str, ...] = tuple(vocabulary)
        self._max_heard_len = max((len(w) + tolerance(w) for w in vocabulary), default=0)
        self._max_key_len = 0
        index_: dict[str, list[int]] = {}
        for word_id, word in enumerate(self._vocabulary):
            key = sound_key(word)
            self._max_key_len = max(self._max_key_len, len(key) + tolerance(key))
            for variant in _deletions(word, tolerance(word)) | _deletions(key, tolerance(key)):
                index_.setdefault(variant, []).append(word_id)
        self._index = {k: tuple(v) for k, v in index_.items()}
        self._cache: dict[str, tuple[tuple[int, bool], ...]] = {}

    def lookup(self, heard: str) -> tuple[tuple[int, bool], ...]:
        """``(vocabulary id, exact)`` of every phrase word that ``heard`` may stand for."""
        cached = self._cache.get(heard)
        if cached is not None:
            return cached
        candidates: set[int] = set()
        if len(heard) <= self._max_heard_len or len(sound_key(heard)) <= self._max_key_len:
            get = self._index.get
            depth = 1 if len(heard) <= SHORT_WORD + 1 else 2
            for variant in _deletions(heard, depth) | _deletions(sound_key(heard), depth):
                ids = get(variant)
                if ids:
                    candidates.update(ids)
        result = tuple(
            (word_id, plural_equal(self._vocabulary[word_id], heard))
            for word_id in sorted(candidates)
            if words_match(self._vocabulary[word_id], heard)
        )
        if len(self._cache) >= _CACHE_SIZE:
            self._cache.clear()
        self._cache[heard] = result
        return result

    def find(self, tokens: Tokens) -> list[PhraseMatch]:
        """All occurrences, sorted by phrase then position; one per phrase and start word."""
        content = tokens.content
        at: list[dict[int, bool]] = []
        starts: dict[int, list[int]] = {}
        for position, word_index in enumerate(content):
            found = self.lookup(tokens.words[word_index])
            if not found:
                at.append(_NO_WORDS)
                continue
            at.append(dict(found))
            for word_id, _exact in found:
                starts.setdefault(word_id, []).append(position)
        if not starts:
            return []
        sentence = [tokens.sentence[i] for i in content]
        matches: list[PhraseMatch] = []
        for first_id, positions in starts.items():
            for phrase_index in self._by_first.get(first_id, ()):
                if not starts.keys() >= self._phrase_sets[phrase_index]:
                    continue
                ids = self._phrase_ids[phrase_index]
                exact_only = self.phrases[phrase_index].exact
                for position in positions:
                    anchored = at[position][first_id]
                    if exact_only and not anchored:
                        continue
                    if not anchored and len(ids) == 1:
                        anchored = self._cued_slip(first_id, tokens, content[position])
                    last = self._extend(ids, 1, position, anchored, exact_only, at, sentence)
                    if last is not None:
                        matches.append(
                            PhraseMatch(phrase_index, content[position], content[last] + 1)
                        )
        matches.sort()
        return matches

    def _cued_slip(self, word_id: int, tokens: Tokens, index: int) -> bool:
        """A one-slip word (same first letter, 4+ letters) right after a complaint cue."""
        expected, heard = self._vocabulary[word_id], tokens.words[index]
        if len(expected) < 4 or heard[0] != expected[0] or edit_distance(expected, heard, 1) > 1:
            return False
        window = range(max(0, index - CUE_WINDOW), index)
        return any(
            tokens.words[i] in COMPLAINT_CUES and tokens.sentence[i] == tokens.sentence[index]
            for i in window
        )

    def clear_cache(self) -> None:
        """Forget the heard-word lookups (they are rebuilt on demand)."""
        self._cache.clear()

    def _extend(
        self,
        ids: tuple[int, ...],
        k: int,
        previous: int,
        anchored: bool,
        exact_only: bool,
        at: list[dict[int, bool]],
        sentence: list[int],
    ) -> int | None:
        """Content position of the phrase's last word, matching ``ids[k:]`` after ``previous``."""
        if k == len(ids):
            return previous if anchored else None
        word_id = ids[k]
        stop = min(previous + 2 + self._max_gap, len(at))
        for position in range(previous + 1, stop):
            if sentence[position] != sentence[previous]:
                break
            exact = at[position].get(word_id)
            if exact is None or (exact_only and not exact):
                continue
            last = self._extend(ids, k + 1, position, anchored or exact, exact_only, at, sentence)
            if last is not None:
                return last
        return None
