"""Calibrated confidence of the classifier (pure numpy; fitted by ``bench.partnumber_eval``).

The raw score of an answer is the softmax mass (temperature ``temperature``) of its heading's
subheadings; an isotonic map fitted on one split of the independent evaluation set turns it
into the probability that the heading (4 digits) is right. Below ``abstain_below`` the
classifier gives no answer (its candidates still go out).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources

import numpy as np
import numpy.typing as npt

__all__ = ["Calibration", "heading_mass"]

FloatArray = npt.NDArray[np.float32]


def heading_mass(
    scores: FloatArray, parent: npt.NDArray[np.intp], temperature: float
) -> FloatArray:
    """Softmax over subheading ``scores``, summed per heading (``parent[i]``: heading index of
    subheading ``i``)."""
    logits = (scores - scores.max()) / temperature
    probs = np.exp(logits)
    probs /= probs.sum()
    mass = np.zeros(int(parent.max()) + 1, dtype=np.float64)
    np.add.at(mass, parent, probs)
    return mass.astype(np.float32)


@dataclass(frozen=True, slots=True)
class Calibration:
    temperature: float
    xs: tuple[float, ...]  # isotonic breakpoints: raw heading mass…
    ys: tuple[float, ...]  # …and the fitted probability that the heading is right
    abstain_below: float

    def __call__(self, raw: float) -> float:
        return float(np.interp(raw, self.xs, self.ys))

    @classmethod
    def load_default(cls) -> Calibration:
        text = resources.files(__package__).joinpath("data/calibracao.json").read_text("utf-8")
        data = json.loads(text)
        return cls(
            float(data["temperature"]),
            tuple(map(float, data["xs"])),
            tuple(map(float, data["ys"])),
            float(data["abstain_below"]),
        )
