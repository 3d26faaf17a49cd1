"""Offline classification of items into the Harmonized System (6 digits) or, with the official
table loaded, the Brazilian NCM (8 digits).

Pipeline: validate the request -> exact catalog lookup -> Portuguese->English interpretation of
the description -> lexical + embedding retrieval over headings and subheadings -> ranking through
the HS hierarchy -> top-3 with a calibrated confidence (abstains below a threshold).
"""

from balto.partnumber.classify.classifier import TOTAL_STEPS, Classifier
from balto.partnumber.classify.models import (
    SOURCE_CATALOG,
    SOURCE_MODEL,
    SOURCE_PATTERN,
    Candidate,
    Classification,
    ClassifyRequest,
    Progress,
)

__all__ = [
    "SOURCE_CATALOG",
    "SOURCE_MODEL",
    "SOURCE_PATTERN",
    "TOTAL_STEPS",
    "Candidate",
    "Classification",
    "Classifier",
    "ClassifyRequest",
    "Progress",
]
