"""A small BM25 index over term lists (one per document)."""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float32]


class BM25:
    def __init__(self, documents: Sequence[Sequence[str]], *, k1: float = 1.2, b: float = 0.6):
        self.size = len(documents)
        lengths = np.array([len(doc) for doc in documents], dtype=np.float32)
        avg = float(lengths.mean()) if self.size else 1.0
        norm = k1 * (1.0 - b + b * lengths / max(avg, 1.0))
        postings: dict[str, list[tuple[int, float]]] = defaultdict(list)
        for index, doc in enumerate(documents):
            for term, tf in Counter(doc).items():
                weight = tf * (k1 + 1.0) / (tf + float(norm[index]))
                postings[term].append((index, weight))
        self._postings: dict[str, tuple[npt.NDArray[np.int64], FloatArray]] = {}
        for term, plist in postings.items():
            idf = math.log(1.0 + (self.size - len(plist) + 0.5) / (len(plist) + 0.5))
            docs = np.array([d for d, _ in plist], dtype=np.int64)
            weights = np.array([w * idf for _, w in plist], dtype=np.float32)
            self._postings[term] = (docs, weights)

    @property
    def vocabulary(self) -> set[str]:
        return set(self._postings)

    def idf_known(self, term: str) -> bool:
        return term in self._postings

    def scores(self, query: Mapping[str, float]) -> FloatArray:
        """BM25 score of every document for ``query`` (term -> weight of that term)."""
        out = np.zeros(self.size, dtype=np.float32)
        for term, weight in query.items():
            posting = self._postings.get(term)
            if posting is not None:
                out[posting[0]] += weight * posting[1]
        return out
