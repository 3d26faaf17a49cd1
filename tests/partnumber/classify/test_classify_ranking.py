"""The ranking's hierarchy prior: a heading gains the best score of its own chapter."""

from __future__ import annotations

import dataclasses

import numpy as np

from balto.partnumber.classify import Classifier
from balto.partnumber.classify.index import Weights


def test_chapter_prior_lifts_the_best_chapter(classifier: Classifier) -> None:
    index = classifier.index
    query = index.embed_query("rolamento de esferas", ("ball bearing",))
    with_prior = Weights()
    assert with_prior.chapter > 0
    flat = index.score(query, dataclasses.replace(with_prior, chapter=0.0)).headings
    lifted = index.score(query, with_prior).headings
    codes = index.heading_codes
    top = int(np.argmax(flat))
    assert codes[top] == "8482"
    assert int(np.argmax(lifted)) == top  # the best heading stays first
    chapter_best: dict[str, float] = {}
    for i, code in enumerate(codes):
        chapter_best[code[:2]] = max(chapter_best.get(code[:2], -np.inf), float(flat[i]))
    for i, code in enumerate(codes):
        expected = flat[i] + with_prior.chapter * chapter_best[code[:2]]
        assert abs(float(lifted[i]) - expected) < 1e-4, code
    # Same chapter: the order is untouched; another chapter falls further behind.
    same = [i for i, c in enumerate(codes) if c[:2] == "84" and i != top]
    assert all(abs(float(lifted[top] - lifted[i] - (flat[top] - flat[i]))) < 1e-4 for i in same)
    other = [i for i, c in enumerate(codes) if c[:2] != "84"]
    assert all(lifted[top] - lifted[i] >= flat[top] - flat[i] - 1e-5 for i in other)
