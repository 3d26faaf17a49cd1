"""Word error rate on real recorded speech, clean and in shop noise, with its cost.

Each recording is decoded whole by the server's transcriber (its settings, its decoding
options for a cliente with the default rules), once clean and once per SNR of
:data:`bench.room.SNRS_DB`. Errors are summed over the words of a group, so the WER of a
group weighs each word equally; CETUC is a group of its own (its reference transcripts carry
2–4% label errors). None of these recordings is about health, so every rule that fires on a
transcript is listed as a false recommendation (decoded whole, without the live segmenter:
the streamed measurement of :mod:`bench.quality.stream` is the one that counts).
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Sequence
from typing import Any

from balto.counter.asr.base import DecodeOptions, Transcriber
from balto.counter.audio.types import Audio
from balto.counter.detect.detector import find_opportunities
from balto.counter.detect.rules import RuleSet
from bench.asr.wer import word_errors
from bench.noise import mix, shop_noise
from bench.quality.data import Recording, read_wav
from bench.room import SNRS_DB

Progress = Callable[[str], None]


def condition_name(snr_db: float | None) -> str:
    return "limpo" if snr_db is None else f"{snr_db:g} dB"


@dataclasses.dataclass(slots=True)
class Tally:
    errors: int = 0
    words: int = 0
    audio_s: float = 0.0
    wall_s: float = 0.0
    cpu_s: float = 0.0
    files: int = 0

    def add(self, errors: int, words: int, audio_s: float, wall_s: float, cpu_s: float) -> None:
        self.errors += errors
        self.words += words
        self.audio_s += audio_s
        self.wall_s += wall_s
        self.cpu_s += cpu_s
        self.files += 1

    def summary(self) -> dict[str, Any]:
        return {
            "arquivos": self.files,
            "palavras": self.words,
            "wer": self.errors / self.words if self.words else None,
            "segundos_de_audio": round(self.audio_s, 1),
            "wall_por_s_audio": self.wall_s / self.audio_s if self.audio_s else None,
            "cpu_por_s_audio": self.cpu_s / self.audio_s if self.audio_s else None,
        }


def recording_audio(recording: Recording, index: int, snr_db: float | None) -> Audio:
    """The ``index``-th recording of a run, with shop noise at ``snr_db`` (None: clean); the
    noise is seeded by the position, so every run hears the same mix."""
    audio = read_wav(recording.file)
    if snr_db is None:
        return audio
    return mix(audio, shop_noise(len(audio) / 16_000, seed=1000 + index), snr_db)


def measure_wer(
    transcriber: Transcriber,
    options: DecodeOptions,
    recordings: Sequence[Recording],
    rules: RuleSet,
    *,
    snrs_db: Sequence[float | None] = (None, *SNRS_DB),
    progress: Progress = print,
) -> dict[str, dict[str, Any]]:
    """``{condition: {group: summary}}`` plus, per condition, the worst files' transcripts."""
    results: dict[str, dict[str, Any]] = {}
    for snr_db in snrs_db:
        name = condition_name(snr_db)
        tallies: dict[str, Tally] = {}
        worst: list[tuple[float, str, str]] = []
        fired: list[dict[str, str]] = []
        for index, recording in enumerate(recordings):
            audio = recording_audio(recording, index, snr_db)
            wall, cpu = time.perf_counter(), time.process_time()
            heard = transcriber.transcribe(audio, options)
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            errors, words = word_errors(recording.transcript, heard)
            for group in (*recording.groups, "todas"):
                tallies.setdefault(group, Tally()).add(
                    errors, words, len(audio) / 16_000, wall, cpu
                )
            worst.append((errors / max(1, words), recording.file.name, heard))
            fired += [
                {"arquivo": recording.file.name, "regra": o.rule_id, "ouvido": heard}
                for o in find_opportunities(rules, heard)
            ]
        results[name] = {group: tally.summary() for group, tally in sorted(tallies.items())}
        worst.sort(reverse=True)
        results[name]["disparos"] = fired
        results[name]["piores"] = [
            {"arquivo": f, "wer": round(w, 3), "ouvido": h} for w, f, h in worst[:5]
        ]
        outras = results[name].get("outras", {}).get("wer")
        cetuc = results[name].get("cetuc", {}).get("wer")
        progress(f"  WER {name}: outras {_pct(outras)}, CETUC {_pct(cetuc)}, disparos {len(fired)}")
    return results


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{100 * value:.1f}%"
