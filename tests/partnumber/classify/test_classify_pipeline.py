"""End-to-end behaviour of Classifier.classify: catalog, progress, abstention, bad input."""

from __future__ import annotations

import pytest

from balto.core.errors import BadRequest
from balto.partnumber.classify import (
    SOURCE_CATALOG,
    SOURCE_MODEL,
    SOURCE_PATTERN,
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
    assert result.source == SOURCE_PATTERN
    assert result.message.startswith("Sem resposta") and "description" in result.message
    assert seen[-1].current == TOTAL_STEPS


@pytest.mark.parametrize(
    ("partnumber", "manufacturer", "code"),
    [
        ("6204-2RS", None, "8482.10"),
        ("SKF 6205-2Z/C3", None, "8482.10"),
        ("30205", "Timken", "8482.20"),
        ("NU206", None, "8482.50"),
        ("DIN 933 M8x30", None, "7318.15"),
        ("ISO4032-M10", None, "7318.16"),
    ],
)
def test_partnumber_alone_by_its_known_form(
    classifier: Classifier, partnumber: str, manufacturer: str | None, code: str
) -> None:
    """The seed's common case: a part number and nothing else."""
    result = classifier.classify(ClassifyRequest(partnumber, manufacturer=manufacturer), _quiet)
    assert result.source == SOURCE_PATTERN
    assert result.classification is not None and result.classification.code == code
    assert result.classification.description  # the HS text of the subheading
    assert result.message.startswith("Classificado pelo padrão do partnumber")


def test_bare_digits_are_only_a_weak_bearing_hint(classifier: Classifier) -> None:
    result = classifier.classify(ClassifyRequest("6001"), _quiet)
    assert result.classification is None and result.candidates[0].code == "8482.10"
    assert result.message.startswith("Sem resposta segura") and "confirme" in result.message


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
