"""The classifier on the independent evaluation set (:mod:`bench.partnumber_sources`).

    python -m bench.partnumber_eval --independente [--ajustar] [--ncm TABELA|nenhuma]

Runs every item through the classifier (its heading ranking and raw confidence), fits the
isotonic calibration on the ``ajuste`` split (``--ajustar`` writes it into the package's
``calibracao.json``, with the abstention threshold), and reports on the ``teste`` split, which
no tuning saw (the ``ajuste`` split's own figures come first, for comparison): heading top-1
(abstentions counted as misses) and top-3, ECE before and after calibration, how often an
answer given with confidence >= 0.8 is wrong, abstention, per source and per chapter; the
reliability diagram goes to ``bench/resultados/confiabilidade.png``. The classifier has the
NCM table the service would load (the installed one by default; ``--ncm nenhuma``: none), and
``--ajustar`` records which one in ``calibracao.json``: the shipped calibration must be fitted
with the default configuration.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from balto.partnumber.classify.calibration import Calibration
from balto.partnumber.classify.classifier import Classifier
from bench.partnumber_calibration import Array, bins_of, ece, fit_isotonic, reliability_png
from bench.partnumber_sources import load

CALIBRATION_JSON = (
    Path(__file__).resolve().parents[1] / "src/balto/partnumber/classify/data/calibracao.json"
)
DIAGRAM = Path(__file__).resolve().parent / "resultados" / "confiabilidade.png"
TEMPERATURE = 0.2
#: Abstain when the heading is more likely wrong than right.
ABSTAIN_BELOW = 0.5
CONFIDENT = 0.8


@dataclass(frozen=True, slots=True)
class Row:
    source: str
    split: str
    gold: str  # heading, 4 digits
    top: list[str]  # the 3 best headings
    raw: float  # uncalibrated confidence of top[0]


def run(classifier: Classifier) -> list[Row]:
    rows: list[Row] = []
    for item, split in load():
        # The query's own subheading is hidden from the Portuguese table: the NCM/CEST
        # queries come from tables that share its texts, and an EU text may be a translation.
        headings, raw = classifier.raw_heading_confidence(item.description, hidden=item.subheading)
        rows.append(Row(item.source, split, item.heading, headings, raw))
    return rows


def _hits(rows: list[Row]) -> Array:
    return np.array([r.top[0] == r.gold for r in rows], dtype=np.float64)


def _calibrated(rows: list[Row], calibration: Calibration) -> Array:
    return np.array([calibration(r.raw) for r in rows], dtype=np.float64)


def report(rows: list[Row], calibration: Calibration) -> None:
    test = [r for r in rows if r.split == "teste"]
    for name, subset in (
        ("ajuste (pesos e calibração ajustados aqui)", [r for r in rows if r.split == "ajuste"]),
        ("teste (todas as fontes)", test),
        ("teste cn-en (UE, inglês)", [r for r in test if r.source == "cn-en"]),
        ("teste ncm-pt (Brasil, português)", [r for r in test if r.source == "ncm-pt"]),
    ):
        top1 = _hits(subset)
        top3 = np.array([r.gold in r.top for r in subset], dtype=np.float64)
        raw = np.array([r.raw for r in subset], dtype=np.float64)
        conf = _calibrated(subset, calibration)
        answered = conf >= calibration.abstain_below
        confident = conf >= CONFIDENT
        wrong_confident = 1 - top1[confident].mean() if confident.any() else 0.0
        chapters = len({r.gold[:2] for r in subset})
        print(f"{name}: {len(subset)} itens, {chapters} capítulos")
        print(
            f"  posição top-1 {(top1 * answered).mean():.1%} (abstenções contam como erro; "
            f"{top1.mean():.1%} sem abstenção), top-3 {top3.mean():.1%}"
        )
        print(
            f"  ECE {ece(raw, top1):.3f} bruta -> {ece(conf, top1):.3f} calibrada; "
            f"respostas com confiança >= {CONFIDENT}: {int(confident.sum())}, erradas "
            f"{wrong_confident:.1%}; abstenção {1 - answered.mean():.1%}, acerto das "
            f"respostas dadas {top1[answered].mean() if answered.any() else 0:.1%}"
        )
    per_chapter: dict[str, list[bool]] = defaultdict(list)
    for r in test:
        per_chapter[r.gold[:2]].append(r.top[0] == r.gold)
    cells = [f"{ch}: {np.mean(v):.0%} ({len(v)})" for ch, v in sorted(per_chapter.items())]
    print("por capítulo (teste, top-1 sem abstenção, itens):")
    for start in range(0, len(cells), 8):
        print("  " + "  ".join(cells[start : start + 8]))
    curves = []
    for source, colour in (("cn-en", (31, 119, 180)), ("ncm-pt", (214, 39, 40))):
        subset = [r for r in test if r.source == source]
        curves.append((bins_of(_calibrated(subset, calibration), _hits(subset)), colour))
    reliability_png(DIAGRAM, curves)
    print(f"diagrama de confiabilidade: bench/resultados/{DIAGRAM.name}")


def main(*, fit: bool, cache_dir: Path | None, ncm: Path | None) -> int:
    classifier = Classifier.load(cache_dir=cache_dir, ncm_table=ncm)
    rows = run(classifier)
    calibration = classifier.calibration
    if fit:
        train = [r for r in rows if r.split == "ajuste"]
        xs, ys = fit_isotonic(np.array([r.raw for r in train], dtype=np.float64), _hits(train))
        calibration = Calibration(TEMPERATURE, tuple(xs), tuple(ys), ABSTAIN_BELOW)
        CALIBRATION_JSON.write_text(
            json.dumps(
                {
                    "temperature": TEMPERATURE,
                    "xs": [round(x, 6) for x in xs],
                    "ys": [round(y, 6) for y in ys],
                    "abstain_below": ABSTAIN_BELOW,
                    "ajustado_em": f"conjunto 'ajuste' independente, {len(train)} itens",
                    "tabela_ncm": ncm.name if ncm is not None else "nenhuma",
                },
                indent=1,
            )
            + "\n",
            encoding="utf-8",
        )
        print(f"calibração ajustada em {len(train)} itens -> {CALIBRATION_JSON.name}")
    report(rows, calibration)
    return 0
