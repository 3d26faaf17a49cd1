"""Public value types of the classifier (requests, progress events, results)."""

from __future__ import annotations

from dataclasses import dataclass, field

SOURCE_CATALOG = "catalogo"
SOURCE_MODEL = "modelo"
SOURCE_PATTERN = "padrao_partnumber"  # the part number's own form (bearing series, DIN/ISO)


@dataclass(frozen=True, slots=True)
class ClassifyRequest:
    """One item to classify: only ``partnumber`` is mandatory; ``description`` is what matters."""

    partnumber: str
    description: str | None = None
    manufacturer: str | None = None
    supplier: str | None = None


@dataclass(frozen=True, slots=True)
class Progress:
    """A pipeline step: ``current`` of a fixed ``total``, with a Portuguese ``message``."""

    current: int
    total: int
    message: str


@dataclass(frozen=True, slots=True)
class Candidate:
    """A code (``"8471.30"``, or ``"8471.30.12"`` with an NCM table) with its description."""

    code: str
    description: str
    score: float


@dataclass(frozen=True, slots=True)
class Classification:
    """The answer. ``classification`` is None when the classifier abstains.

    ``message`` is a short Portuguese explanation (why it abstained, or where the answer came from).
    """

    partnumber: str
    description: str
    classification: Candidate | None
    candidates: list[Candidate] = field(default_factory=list)
    confidence: float = 0.0
    source: str = SOURCE_MODEL
    message: str = ""
