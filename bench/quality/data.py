"""The report's inputs: the labelled counter set and the shared real recordings."""

from __future__ import annotations

import csv
import dataclasses
from pathlib import Path

from balto.counter.audio.types import SAMPLE_RATE_HZ, Audio
from balto.counter.audio.wav import FORMAT_PCM, decode_wav
from balto.counter.detect.loader import default_rules

REPO = Path(__file__).resolve().parents[2]
LABELLED_FILE = REPO / "bench" / "data" / "frases_balcao.tsv"
REAL_DIR = REPO.parent / "shared" / "speech" / "real"
PARTS = ("ajuste", "reservada")  # tuning part, reserved part (no tuning looks at it)
TURN_SEPARATOR = " || "


class DataError(RuntimeError):
    """An input file is missing or malformed."""


@dataclasses.dataclass(frozen=True, slots=True)
class Item:
    id: str
    parte: str
    tipo: str  # "queixa", "neutra" or "dialogo"
    regras: frozenset[str]
    turns: tuple[str, ...]  # customer first, then the attendant, alternating


def labelled_items(path: Path = LABELLED_FILE) -> list[Item]:
    known = {rule.id for rule in default_rules().rules}
    items = []
    with path.open(encoding="utf-8", newline="") as stream:
        for row in csv.DictReader(stream, delimiter="\t"):
            regras = frozenset(r.strip() for r in (row["regras"] or "").split(",") if r.strip())
            if unknown := regras - known:
                raise DataError(f"{path}: {row['id']}: regras desconhecidas {sorted(unknown)}")
            if row["parte"] not in PARTS:
                raise DataError(f"{path}: {row['id']}: parte {row['parte']!r}")
            turns = tuple(
                t.strip() for t in row["texto"].split(TURN_SEPARATOR.strip()) if t.strip()
            )
            items.append(Item(row["id"], row["parte"], row["tipo"], regras, turns))
    return items


@dataclasses.dataclass(frozen=True, slots=True)
class Recording:
    file: Path
    seconds: float
    speaker: str
    transcript: str

    @property
    def source(self) -> str:
        """``ttspt``, ``lapsbm``, ``ufpalign`` or ``cetuc`` (the file name's prefix)."""
        return self.file.name.split("_", 1)[0]

    @property
    def groups(self) -> tuple[str, ...]:
        """Where the recording is scored: its source, and ``outras`` unless it is CETUC
        (whose transcripts carry 2–4% label errors and are scored apart)."""
        return (self.source,) if self.source == "cetuc" else (self.source, "outras")


def real_recordings(directory: Path = REAL_DIR) -> list[Recording]:
    manifest = directory / "manifest.tsv"
    if not manifest.is_file():
        raise DataError(f"{manifest} não existe: a fala real vem de ../shared/speech/real")
    with manifest.open(encoding="utf-8", newline="") as stream:
        rows = list(csv.DictReader(stream, delimiter="\t"))
    return [
        Recording(directory / r["file"], float(r["seconds"]), r["speaker"], r["transcript"])
        for r in rows
    ]


def read_wav(path: Path) -> Audio:
    """A 16 kHz mono 16-bit WAV (the shared set's format) as float32, read by the server's
    own WAV reader."""
    wav = decode_wav(path.read_bytes())
    fmt = wav.format
    if (fmt.sample_rate_hz, fmt.channels, fmt.encoding, fmt.bits) != (
        SAMPLE_RATE_HZ,
        1,
        FORMAT_PCM,
        16,
    ):
        raise DataError(f"{path}: esperado WAV 16 kHz mono 16 bits")
    return wav.samples
