"""End-to-end behaviour of Classifier.classify: catalog, progress, abstention, bad input."""

from __future__ import annotations

import pytest

from balto.core.errors import BadRequest
from balto.partnumber.classify import (
    SOURCE_CATALOG,
    SOURCE_MODEL,
    TOTAL_STEPS,
    Classifier,
    ClassifyRequest,
    Progress,
)


def _quiet(_: Progress) -> None:
    return None


def test_catalog_exact_hit(classifier: Classifier) -> None:
    result = classifier.classify(ClassifyRequest("lat5440-i5", manufacturer="DELL"), _quiet)
    assert result.source == SOURCE_CATALOG
    assert result.confidence == 1.0
    assert result.classification is not None
    assert result.classification.code == "8471.30.12"
    assert result.candidates == [result.classification]
    assert result.description == "Notebook Latitude 5440"


def test_catalog_hit_without_manufacturer(classifier: Classifier) -> None:
    result = classifier.classify(ClassifyRequest("BKR-6E", "vela"), _quiet)
    assert result.source == SOURCE_CATALOG
    assert result.confidence == 1.0
    assert result.classification is not None
    assert result.classification.code == "8511.10"
    assert result.classification.description.startswith("Ignition")


def test_catalog_hit_other_manufacturer_is_less_certain(classifier: Classifier) -> None:
    result = classifier.classify(ClassifyRequest("BKR6E", manufacturer="Bosch"), _quiet)
    assert result.source == SOURCE_CATALOG
    assert result.confidence == 0.9


def test_progress_steps_in_order(classifier: Classifier) -> None:
    seen: list[Progress] = []
    result = classifier.classify(
        ClassifyRequest("X-1", "Pastilha de freio dianteira para automóvel", "Cobreq"), seen.append
    )
    assert [p.current for p in seen] == list(range(1, TOTAL_STEPS + 1))
    assert {p.total for p in seen} == {TOTAL_STEPS}
    assert all(p.message for p in seen)
    assert seen[1].message == "Consultando catálogo..."
    assert result.source == SOURCE_MODEL
    assert result.classification is not None
    assert result.classification.code == "8708.30"
    assert len(result.candidates) == 3
    assert result.candidates[0].score >= result.candidates[1].score >= result.candidates[2].score
    assert 0.0 < result.confidence <= 1.0


def test_catalog_hit_progress_ends_at_total(classifier: Classifier) -> None:
    seen: list[Progress] = []
    classifier.classify(ClassifyRequest("BKR6E"), seen.append)
    currents = [p.current for p in seen]
    assert currents == sorted(set(currents)) and currents[-1] == TOTAL_STEPS
    assert {p.total for p in seen} == {TOTAL_STEPS}


def test_abstains_on_partnumber_alone(classifier: Classifier) -> None:
    seen: list[Progress] = []
    result = classifier.classify(ClassifyRequest("ZX-99812-B", manufacturer="Acme"), seen.append)
    assert result.classification is None
    assert result.candidates == []
    assert result.confidence == 0.0
    assert "descrição" in result.message
    assert seen[-1].current == TOTAL_STEPS


def test_abstains_on_unintelligible_description(classifier: Classifier) -> None:
    result = classifier.classify(ClassifyRequest("Q-1", "XPTO ZR-900 Qwyx"), _quiet)
    assert result.classification is None
    assert result.confidence < 0.25
    assert result.source == SOURCE_MODEL


@pytest.mark.parametrize(
    ("request_", "fragment"),
    [
        (ClassifyRequest(""), "partnumber"),
        (ClassifyRequest("   "), "partnumber"),
        (ClassifyRequest("--//--"), "Partnumber inválido"),
        (ClassifyRequest(123), "texto"),  # type: ignore[arg-type]
        (ClassifyRequest("A1", "x" * 3000), "excede"),
        (ClassifyRequest("A1", manufacturer=["Dell"]), "texto"),  # type: ignore[arg-type]
    ],
)
def test_bad_input(classifier: Classifier, request_: ClassifyRequest, fragment: str) -> None:
    with pytest.raises(BadRequest) as info:
        classifier.classify(request_, _quiet)
    assert fragment in info.value.message
    assert info.value.status == 400
