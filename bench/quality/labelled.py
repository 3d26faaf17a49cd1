"""Opportunity recall and precision per rule on the labelled counter set, in natural voices.

Every item is spoken by the natural voices (one per item, rotating; in a dialogue the
attendant takes the next voice), placed in a simulated counter (:mod:`bench.room`) under each
condition, and run through the pipeline under test. Scored per part (``ajuste`` for tuning,
``reservada`` for the figures no tuning saw):

* sentence recall: complaints (and dialogues with a complaint) in which every labelled rule
  fired;
* per rule: true positives, misses, false positives (a rule fired that the item does not
  carry), recall and precision;
* false alarms: neutral items (and neutral dialogues) on which anything fired;
* what Whisper heard: the word error rate of the transcripts against the item's text, per part
  and per customer voice (numbers Whisper writes as digits count as errors);
* the detector alone, on the item's own text (:func:`measure_reading`): what recall and
  precision would be with perfect hearing. The gap between the two is the hearing's.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any

from balto.counter.audio.types import Audio
from bench.asr.wer import word_errors
from bench.quality.data import PARTS, Item
from bench.room import counter_scene
from bench.speech import synthesize, voices

Progress = Callable[[str], None]
CONDITIONS: dict[str, float | None] = {"sala sem ruído": None, "10 dB": 10.0, "5 dB": 5.0}
MIN_ROOM_CONDITION = "10 dB"  # the condition the targets are set for


@dataclasses.dataclass(frozen=True, slots=True)
class Heard:
    texto: str
    regras: frozenset[str]


Hear = Callable[[Audio], Heard]
Read = Callable[[str], frozenset[str]]  # the rules that fire on a text, as a counter's would


def customer_voice(index: int) -> str:
    pool = voices()
    return pool[index % len(pool)]


def speak(item: Item, index: int) -> list[Audio]:
    """The item's turns in natural voices: the customer's rotates with ``index``."""
    pool = voices()
    return [
        synthesize(turn, voice=pool[(index + 2 * position) % len(pool)])
        for position, turn in enumerate(item.turns)
    ]


@dataclasses.dataclass(slots=True)
class Score:
    items: int = 0
    complaints: int = 0
    complaints_found: int = 0
    neutrals: int = 0
    neutral_alarms: int = 0
    hits: Counter[str] = dataclasses.field(default_factory=Counter)
    misses: Counter[str] = dataclasses.field(default_factory=Counter)
    false: Counter[str] = dataclasses.field(default_factory=Counter)
    word_errors: int = 0
    words: int = 0

    def add(self, item: Item, fired: frozenset[str], heard: str | None = None) -> None:
        self.items += 1
        if heard is not None:
            errors, words = word_errors(" ".join(item.turns), heard)
            self.word_errors += errors
            self.words += words
        if item.regras:
            self.complaints += 1
            self.complaints_found += item.regras <= fired
        else:
            self.neutrals += 1
            self.neutral_alarms += bool(fired)
        self.hits.update(item.regras & fired)
        self.misses.update(item.regras - fired)
        self.false.update(fired - item.regras)

    def summary(self) -> dict[str, Any]:
        hits, misses, false = (sum(c.values()) for c in (self.hits, self.misses, self.false))
        rules = sorted(set(self.hits) | set(self.misses) | set(self.false))
        return {
            "itens": self.items,
            "queixas": self.complaints,
            "recall_frases": _ratio(self.complaints_found, self.complaints),
            "precisao": _ratio(hits, hits + false),
            "recall_regras": _ratio(hits, hits + misses),
            "neutras": self.neutrals,
            "neutras_com_alarme": self.neutral_alarms,
            "wer": _ratio(self.word_errors, self.words),
            "por_regra": {
                rule: {
                    "acertos": self.hits[rule],
                    "perdidas": self.misses[rule],
                    "falsas": self.false[rule],
                    "recall": _ratio(self.hits[rule], self.hits[rule] + self.misses[rule]),
                    "precisao": _ratio(self.hits[rule], self.hits[rule] + self.false[rule]),
                }
                for rule in rules
            },
        }


def measure_reading(read: Read, items: Sequence[Item]) -> dict[str, Any]:
    """The detector on each item's own text (its turns joined): hearing taken as perfect."""
    scores = {part: Score() for part in PARTS}
    for item in items:
        scores[item.parte].add(item, read(" ".join(item.turns)))
    return {part: score.summary() for part, score in scores.items()}


def _ratio(numerator: int, denominator: int) -> float | None:
    return numerator / denominator if denominator else None


def measure_opportunities(
    hear: Hear,
    items: Sequence[Item],
    *,
    conditions: dict[str, float | None] = CONDITIONS,
    progress: Progress = print,
) -> dict[str, Any]:
    """``{condition: {part: summary}}`` and the errors, for reading (never for tuning blind)."""
    spoken = [speak(item, index) for index, item in enumerate(items)]
    results: dict[str, Any] = {}
    for name, snr_db in conditions.items():
        scores = {part: Score() for part in PARTS}
        by_voice: dict[str, Counter[str]] = {}
        wer_by_voice: dict[str, Score] = {}
        errors: list[dict[str, Any]] = []
        for index, (item, turns) in enumerate(zip(items, spoken, strict=True)):
            scene = counter_scene(turns, snr_db=snr_db, seed=index)
            heard = hear(scene.audio)
            scores[item.parte].add(item, heard.regras, heard.texto)
            wer_by_voice.setdefault(customer_voice(index), Score()).add(
                item, heard.regras, heard.texto
            )
            if item.regras:
                tally = by_voice.setdefault(customer_voice(index), Counter())
                tally["queixas"] += 1
                tally["encontradas"] += item.regras <= heard.regras
            if heard.regras != item.regras:
                errors.append(
                    {
                        "id": item.id,
                        "parte": item.parte,
                        "esperado": sorted(item.regras),
                        "disparou": sorted(heard.regras),
                        "ouvido": heard.texto,
                    }
                )
        results[name] = {part: score.summary() for part, score in scores.items()}
        results[name]["por_voz"] = {
            voice: _ratio(t["encontradas"], t["queixas"]) for voice, t in by_voice.items()
        }
        results[name]["wer_por_voz"] = {
            voice: score.summary()["wer"] for voice, score in wer_by_voice.items()
        }
        results[name]["erros"] = errors
        line = ", ".join(
            f"{part}: recall {_pct(s['recall_frases'])} precisão {_pct(s['precisao'])}"
            for part, s in results[name].items()
            if part in PARTS
        )
        progress(f"  oportunidades {name}: {line}")
    return results


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{100 * value:.1f}%"
