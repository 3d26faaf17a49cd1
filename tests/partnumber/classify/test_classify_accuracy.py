"""A small accuracy floor on held-out evaluation items (the full run is ``evaluate``)."""

from __future__ import annotations

from bench.partnumber_eval import evaluate, load_examples

from balto.partnumber.classify import Classifier


def test_evaluation_set_is_well_formed() -> None:
    examples = load_examples()
    assert len(examples) >= 100
    assert {e.split for e in examples} == {"dev", "teste"}
    assert len({e.heading[:2] for e in examples}) >= 30
    for e in examples:
        assert len(e.heading) == 4 and e.subheading.startswith(e.heading), e


def test_heading_accuracy_floor(classifier: Classifier) -> None:
    held_out = [e for e in load_examples() if e.split == "teste"][::6]  # 13 items, many chapters
    tally = evaluate(classifier, held_out, show_errors=False)
    assert tally.n == 13
    assert tally.head3 >= 10
    assert tally.head1 >= 8
