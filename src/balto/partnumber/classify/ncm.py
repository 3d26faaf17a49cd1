"""Choice of the 8-digit NCM item inside a subheading, by Portuguese similarity of the query
to each item's full description path (lexical BM25 + sentence embedding)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from balto.partnumber.classify.embeddings import Encoder, FloatArray
from balto.partnumber.classify.lexical import BM25
from balto.partnumber.classify.nomenclature import Node, Nomenclature
from balto.partnumber.classify.text import pt_terms

ITEM_TEMPERATURE = 0.1


class ItemRanker:
    def __init__(self, nom: Nomenclature, encoder: Encoder, cache_dir: Path | None) -> None:
        self.nodes: list[Node] = [node for code in sorted(nom.items) for node in nom.items[code]]
        self._rows: dict[str, list[int]] = {}
        for row, node in enumerate(self.nodes):
            self._rows.setdefault(node.code[:6], []).append(row)
        self._bm25 = BM25([pt_terms(node.text_pt) for node in self.nodes])
        self._vectors, self.cached = encoder.encode_cached(
            [node.text_pt for node in self.nodes], cache_dir, prefix="ncm-item-embeddings"
        )

    def rank(
        self, sub_code: str, query_pt: str, query_vector: FloatArray
    ) -> list[tuple[Node, float]]:
        """Items of ``sub_code`` with their probability within the subheading, best first."""
        rows = self._rows.get(sub_code, [])
        if not rows:
            return []
        if len(rows) == 1:
            return [(self.nodes[rows[0]], 1.0)]
        weights = dict.fromkeys(pt_terms(query_pt), 1.0)
        lexical = self._bm25.scores(weights)[rows]
        top = float(lexical.max())
        if top > 0:
            lexical = lexical / top
        cosine = self._vectors[rows] @ query_vector
        scores = (cosine + 0.5 * lexical) / ITEM_TEMPERATURE
        probs = np.exp(scores - scores.max())
        probs /= probs.sum()
        order = np.argsort(-probs)
        return [(self.nodes[rows[i]], float(probs[i])) for i in order]
