"""The ranking: the hierarchy prior (a heading gains the best score of its own chapter), the
language gate, the leading term, the hidden subheading, and how the answer is chosen."""

from __future__ import annotations

import copy
import dataclasses
import math

import numpy as np
import pytest

from balto.partnumber.classify import Classifier
from balto.partnumber.classify.classifier import TEMPERATURE
from balto.partnumber.classify.index import Weights
from balto.partnumber.classify.nomenclature import Node


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


def test_leading_term_bonus_goes_to_headings_that_start_with_it(classifier: Classifier) -> None:
    index = classifier.index
    query = index.embed_query("rolamento de esferas", ("ball bearing",))
    assert "ball" in query.leads
    base = dataclasses.replace(Weights(), chapter=0.0)
    flat = index.score(query, dataclasses.replace(base, lead=0.0)).headings
    lifted = index.score(query, base).headings
    gained = {c for i, c in enumerate(index.heading_codes) if lifted[i] - flat[i] > 1e-6}
    assert "8482" in gained  # "Ball or roller bearings"
    for i, code in enumerate(index.heading_codes):
        bump = base.lead if code in gained else 0.0
        assert abs(float(lifted[i] - flat[i]) - bump) < 1e-5, code
    assert all(index.head_leads[index.heading_codes.index(c)] & query.leads for c in gained)


def test_query_language_by_the_nomenclature_vocabularies(ncm_classifier: Classifier) -> None:
    index = ncm_classifier.index
    assert index.language("Guarnições de freios montadas") == "pt"
    assert index.language("Mounted brake linings for tractors") == "en"
    assert index.language("XJ-2000 123") == "?"


def test_without_the_portuguese_table_the_language_is_not_computed(
    classifier: Classifier, monkeypatch: pytest.MonkeyPatch
) -> None:
    index = classifier.index
    assert not index.has_pt

    def refuse(text: str) -> str:
        raise AssertionError(f"language() ran without a Portuguese table: {text!r}")

    monkeypatch.setattr(index, "language", refuse)
    query = index.embed_query("Guarnições de freios montadas", ("brake linings mounted",))
    assert query.language == "?"


def test_an_english_query_ignores_the_portuguese_texts(
    classifier: Classifier, ncm_classifier: Classifier
) -> None:
    """Same HS tree, one index with the Portuguese NCM texts: an English query scores alike."""
    english = classifier.index
    both = ncm_classifier.index
    assert english.sub_codes == both.sub_codes
    assert not english.has_pt and both.has_pt
    text, segments = "Mounted brake linings", ("mounted brake linings",)
    q_en, q_both = english.embed_query(text, segments), both.embed_query(text, segments)
    assert q_both.language == "en"
    a, b = english.score(q_en, Weights()), both.score(q_both, Weights())
    np.testing.assert_allclose(a.subheadings, b.subheadings, atol=1e-5)
    # A Portuguese query does use them.
    q_pt = both.embed_query("Guarnições de freios montadas", ("brake linings mounted",))
    assert q_pt.language == "pt"
    pt = both.score(q_pt, Weights()).subheadings
    en_only = english.score(english.embed_query(q_pt.text_pt, q_pt.segments), Weights())
    assert not np.allclose(pt, en_only.subheadings, atol=1e-5)


def test_hidden_subheading_loses_its_portuguese_texts_only(ncm_classifier: Classifier) -> None:
    index = ncm_classifier.index
    query = index.embed_query("Guarnições de freios montadas", ("brake linings mounted",))
    weights = dataclasses.replace(Weights(), chapter=0.0, sub_in_head=1.0)
    shown = index.score(query, weights).subheadings
    hidden = index.score(query, weights, hidden="870830").subheadings
    at = index.sub_codes.index("870830")
    assert hidden[at] < shown[at]
    # Subheadings of other headings do not move (their heading's best subheading is another).
    other = [i for i, c in enumerate(index.sub_codes) if c[:4] != "8708"]
    np.testing.assert_allclose(hidden[other], shown[other], atol=1e-6)
    # An unknown code hides nothing.
    np.testing.assert_allclose(index.score(query, weights, hidden="999999").subheadings, shown)


class SplitItems:
    """Items of 8471.30 share its probability three ways; 8708.30 has a single item."""

    def rank(self, sub_code: str, query_pt: str, vector: object) -> list[tuple[Node, float]]:
        if sub_code == "847130":
            return [(Node(f"847130{n}", label_pt=f"item {n}"), 1 / 3) for n in ("12", "19", "90")]
        if sub_code == "870830":
            return [(Node("87083090", label_pt="único"), 1.0)]
        return []


def test_the_answer_is_an_item_of_the_most_probable_subheading(
    ncm_classifier: Classifier,
) -> None:
    """8471.30 (p 0.6) over 8708.30 (p 0.4), though 8708.30's single item (0.4) outscores
    each of 8471.30's three (0.2): the answer follows the subheading, as the evaluation
    measures it; the alternatives follow by joint score."""
    ranked = copy.copy(ncm_classifier)
    ranked.items = SplitItems()  # type: ignore[assignment]
    subs = ranked.index.sub_codes
    scores = np.full(len(subs), -100.0)
    scores[subs.index("847130")] = 0.0
    scores[subs.index("870830")] = TEMPERATURE * math.log(0.4 / 0.6)
    candidates = ranked._rank(scores, "descrição", np.zeros(512, dtype=np.float32))
    assert candidates[0].code.startswith("8471.30.")
    assert candidates[1].code == "8708.30.90" and candidates[1].score == pytest.approx(0.4)
    assert candidates[0].score == pytest.approx(0.2)
