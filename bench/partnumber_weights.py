"""Refits the ranking's mixing weights (:class:`Weights`) on the ``ajuste`` split only.

    python -m bench.partnumber_weights [--ncm TABELA|nenhuma] [--rodadas 2]

Coordinate search: each weight in turn takes the value of its grid that most improves heading
top-1 + top-3 / 2 on the ``ajuste`` split (each query with its own subheading hidden from the
Portuguese table, as in the evaluation), for a few rounds. The queries are embedded once; every
trial runs the classifier's own scoring. Prints the weights found and, for information only, the
``teste`` figures of the starting and the found weights: nothing is chosen on ``teste``. The
result is copied into :class:`Weights` by hand. ``--ncm``: as the service, the installed NCM
table by default, ``nenhuma`` for none.
"""

from __future__ import annotations

import argparse
import dataclasses

from balto.partnumber.classify.classifier import TOP_K, Classifier
from balto.partnumber.classify.index import Query, Weights
from bench import partnumber_ncm
from bench.partnumber_sources import Item, load

GRID: dict[str, tuple[float, ...]] = {
    "head_embed": (0.0, 0.1, 0.25, 0.5, 0.75),
    "head_lexical": (0.0, 0.1, 0.25),
    "sub_embed": (0.5, 1.0, 1.5),
    "sub_lexical": (0.5, 1.0, 1.5),
    "sub_in_head": (0.25, 0.5, 1.0),
    "position_decay": (0.5, 0.7, 0.85, 1.0),
    "chapter": (0.0, 0.25, 0.5, 0.75),
    "lead": (0.0, 0.1, 0.2, 0.3, 0.4),
}


@dataclasses.dataclass(frozen=True, slots=True)
class Case:
    item: Item
    query: Query


def embed(classifier: Classifier, items: list[Item]) -> list[Case]:
    return [Case(item, classifier.interpret(item.description)[1]) for item in items]


def figures(classifier: Classifier, cases: list[Case], weights: Weights) -> tuple[float, float]:
    """Heading top-1 and top-3 (without abstention) of ``weights`` on ``cases``."""
    index = classifier.index
    top1 = top3 = 0
    for case in cases:
        subs = index.score(case.query, weights, hidden=case.item.subheading).subheadings
        headings = index.top_headings(subs, TOP_K)
        top1 += headings[0] == case.item.heading
        top3 += case.item.heading in headings
    return top1 / len(cases), top3 / len(cases)


def search(classifier: Classifier, cases: list[Case], rounds: int) -> Weights:
    def objective(weights: Weights) -> float:
        top1, top3 = figures(classifier, cases, weights)
        return top1 + top3 / 2

    best = classifier.weights
    best_value = objective(best)
    for round_ in range(rounds):
        for name, grid in GRID.items():
            for value in grid:
                trial = dataclasses.replace(best, **{name: value})
                trial_value = objective(trial)
                if trial_value > best_value + 1e-9:
                    best, best_value = trial, trial_value
            print(f"  rodada {round_ + 1}: {name} = {getattr(best, name)} ({best_value:.4f})")
    return best


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Reajusta os pesos do ranking no 'ajuste'")
    partnumber_ncm.add_argument(parser)
    parser.add_argument("--rodadas", type=int, default=2)
    args = parser.parse_args(argv)
    classifier = Classifier.load(ncm_table=partnumber_ncm.resolve(args.ncm))
    rows = load()
    tune = embed(classifier, [item for item, split in rows if split == "ajuste"])
    test = embed(classifier, [item for item, split in rows if split == "teste"])
    found = search(classifier, tune, args.rodadas)
    for name, weights in (("atuais", classifier.weights), ("encontrados", found)):
        (a1, a3), (t1, t3) = figures(classifier, tune, weights), figures(classifier, test, weights)
        print(f"pesos {name}: ajuste {a1:.1%} / {a3:.1%}, teste {t1:.1%} / {t3:.1%} (top-1/top-3)")
    changed = {
        f.name: getattr(found, f.name)
        for f in dataclasses.fields(Weights)
        if getattr(found, f.name) != getattr(classifier.weights, f.name)
    }
    print(f"mudanças: {changed or 'nenhuma'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
