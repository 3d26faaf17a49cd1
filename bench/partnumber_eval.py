"""Accuracy of the classifier on the labelled evaluation set (``data/avaliacao.csv``).

    python -m bench.partnumber_eval [--conjunto dev|teste|todos] [--erros] [--ncm TABELA]
    python -m bench.partnumber_eval --independente [--ajustar]   # see bench.partnumber_independent

``--ncm``: as the service, the installed NCM table by default, ``nenhuma`` for none
(:mod:`bench.partnumber_ncm`).

The set is split in a ``dev`` half (used to tune weights and the confidence temperature) and a
held-out ``teste`` half (never used for tuning). Prints, per half: heading (4-digit) and
subheading (6-digit) top-1/top-3 accuracy, abstention rate, accuracy of the answers given, mean
confidence and mean latency of ``Classifier.classify``.
"""

from __future__ import annotations

import argparse
import csv
import io
import statistics
import time
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from balto.partnumber.classify.classifier import Classifier
from balto.partnumber.classify.models import ClassifyRequest, Progress
from bench import partnumber_ncm


@dataclass(frozen=True, slots=True)
class Example:
    partnumber: str
    description: str
    manufacturer: str
    heading: str
    subheading: str
    split: str


@dataclass(slots=True)
class Tally:
    n: int = 0
    head1: int = 0
    head3: int = 0
    sub1: int = 0
    sub3: int = 0
    abstained: int = 0
    answered_right: int = 0
    confidence: list[float] = field(default_factory=list)
    latency_ms: list[float] = field(default_factory=list)

    def row(self, name: str) -> str:
        n = max(self.n, 1)
        answered = self.n - self.abstained
        right = self.answered_right / answered if answered else 0.0
        return (
            f"{name:<7}{self.n:>5}{self.head1 / n:>9.1%}{self.head3 / n:>9.1%}"
            f"{self.sub1 / n:>9.1%}{self.sub3 / n:>9.1%}{self.abstained / n:>9.1%}{right:>10.1%}"
            f"{statistics.fmean(self.confidence or [0.0]):>8.2f}"
            f"{statistics.fmean(self.latency_ms or [0.0]):>9.1f}"
        )


HEADER = (
    f"{'conj.':<7}{'n':>5}{'pos@1':>9}{'pos@3':>9}{'subp@1':>9}{'subp@3':>9}"
    f"{'abst.':>9}{'acerto*':>10}{'conf.':>8}{'ms/item':>9}"
)


def load_examples() -> list[Example]:
    raw = resources.files(__package__).joinpath("data/avaliacao.csv").read_text("utf-8")
    return [
        Example(
            r["partnumber"],
            r["descricao"],
            r["fabricante"],
            r["posicao"],
            r["subposicao"],
            r["conjunto"],
        )
        for r in csv.DictReader(io.StringIO(raw))
    ]


def _ignore(_: Progress) -> None:
    return None


def evaluate(classifier: Classifier, examples: list[Example], *, show_errors: bool) -> Tally:
    tally = Tally()
    for ex in examples:
        request = ClassifyRequest(ex.partnumber, ex.description, ex.manufacturer)
        started = time.perf_counter()
        result = classifier.classify(request, _ignore)
        tally.latency_ms.append((time.perf_counter() - started) * 1000)
        headings, subs = classifier.top_codes(ex.description, ex.manufacturer)
        tally.n += 1
        tally.head1 += headings[:1] == [ex.heading]
        tally.head3 += ex.heading in headings
        tally.sub1 += subs[:1] == [ex.subheading]
        tally.sub3 += ex.subheading in subs
        tally.confidence.append(result.confidence)
        if result.classification is None:
            tally.abstained += 1
        elif result.classification.code.replace(".", "")[:6] == ex.subheading:
            tally.answered_right += 1
        if show_errors and ex.heading not in headings:
            print(f"  erro [{ex.split}] {ex.description!r}: esperado {ex.heading}, veio {headings}")
    return tally


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Avalia o classificador de partnumbers")
    parser.add_argument("--conjunto", choices=("dev", "teste", "todos"), default="todos")
    parser.add_argument("--cache-dir", type=Path, default=None)
    partnumber_ncm.add_argument(parser)
    parser.add_argument("--erros", action="store_true", help="lista as posições erradas")
    parser.add_argument(
        "--independente",
        action="store_true",
        help="avalia no conjunto independente (fontes públicas), com calibração e diagrama",
    )
    parser.add_argument(
        "--ajustar",
        action="store_true",
        help="com --independente: reajusta a calibração no conjunto 'ajuste' e a grava",
    )
    args = parser.parse_args(argv)
    table = partnumber_ncm.resolve(args.ncm)
    if args.independente:
        from bench import partnumber_independent

        return partnumber_independent.main(fit=args.ajustar, cache_dir=args.cache_dir, ncm=table)

    started = time.perf_counter()
    classifier = Classifier.load(cache_dir=args.cache_dir, ncm_table=table)
    load_s = time.perf_counter() - started
    state = "quente (embeddings do cache)" if classifier.cached else "frio (embeddings gerados)"
    print(f"carga: {load_s:.1f} s, {state}")

    examples = load_examples()
    splits = ("dev", "teste") if args.conjunto == "todos" else (args.conjunto,)
    print(HEADER)
    total = Tally()
    for split in splits:
        tally = evaluate(
            classifier, [e for e in examples if e.split == split], show_errors=args.erros
        )
        print(tally.row(split))
        for name in ("n", "head1", "head3", "sub1", "sub3", "abstained", "answered_right"):
            setattr(total, name, getattr(total, name) + getattr(tally, name))
        total.confidence += tally.confidence
        total.latency_ms += tally.latency_ms
    if len(splits) > 1:
        print(total.row("todos"))
    print("* acerto: subposição correta entre os itens não abstidos")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
