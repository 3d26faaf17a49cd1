"""Search index over the nomenclature: BM25 (English and, with NCM, Portuguese) and sentence
embeddings for headings and subheadings, combined through the HS hierarchy.

With the Portuguese NCM texts attached, a query written in English is matched against the
English texts only: through the multilingual encoder the Portuguese side adds more noise than
signal to an English query (heading top-1 on the ``ajuste`` split 78.7% English-only against
76.8% with both, ``bench.partnumber_independent``)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from balto.partnumber.classify.embeddings import Encoder, FloatArray
from balto.partnumber.classify.lexical import BM25
from balto.partnumber.classify.nomenclature import Nomenclature
from balto.partnumber.classify.text import en_terms, pt_terms, words


@dataclass(frozen=True, slots=True)
class Weights:
    """Mixing weights of the ranking, fitted (coordinate search, top-1 + top-3 / 2) on the
    ``ajuste`` split of the independent evaluation set (``python -m bench.partnumber_weights``:
    a local optimum of its grid). That split is English only (EU CN texts): the weights were
    fitted with an NCM table attached (an official JSON; which one is not recorded), but
    English queries skip the Portuguese texts (see :meth:`SearchIndex.score`), so no
    Portuguese query and almost none of the table entered the fit. Rechecked on 2026-12-01
    with the default table (OCA l10n-br's CSV, installed by ``balto partnumber ncm install``):
    the search changes nothing (ajuste 78.7% / 90.7% heading top-1 / top-3). The calibration
    (``data/calibracao.json``) was refitted with that table attached, the default
    configuration."""

    head_embed: float = 0.5
    head_lexical: float = 0.0
    head_best_sub: float = 1.0
    sub_embed: float = 1.0
    sub_lexical: float = 1.0
    sub_in_head: float = 0.5
    manufacturer: float = 0.1
    position_decay: float = 0.7  # Portuguese noun phrases are head-first: later words weigh less
    head_vector: float = 0.0  # weight of the embedding of the leading (head) term alone
    chapter: float = 0.5  # weight of the best heading score of the same chapter (hierarchy)
    lead: float = 0.3  # the query's leading term is the heading text's leading term


@dataclass(frozen=True, slots=True)
class Query:
    text_pt: str
    segments: tuple[str, ...]  # English rendering of each understood term, in order
    vectors: FloatArray  # (3, 512): Portuguese original, English translation, English head term
    language: str = "?"  # "pt", "en" or "?" (by the nomenclature vocabularies it uses)
    leads: frozenset[str] = frozenset()  # the leading term, as Portuguese and as English

    def terms_en(self, decay: float) -> dict[str, float]:
        return _positional(([t for t in en_terms(seg)] for seg in self.segments), decay)

    def terms_pt(self, decay: float) -> dict[str, float]:
        return _positional(([t] for t in pt_terms(self.text_pt)), decay)


@dataclass(frozen=True, slots=True)
class Scores:
    headings: FloatArray  # aligned with SearchIndex.heading_codes
    subheadings: FloatArray  # aligned with SearchIndex.sub_codes


class SearchIndex:
    def __init__(self, nom: Nomenclature, encoder: Encoder, cache_dir: Path | None) -> None:
        self.nom = nom
        self.encoder = encoder
        self.heading_codes = sorted(nom.headings)
        self.sub_codes = sorted(nom.subheadings)
        head_pos = {code: i for i, code in enumerate(self.heading_codes)}
        self.sub_parent = np.array([head_pos[c[:4]] for c in self.sub_codes], dtype=np.int64)
        chapters = sorted({c[:2] for c in self.heading_codes})
        self.head_chapter = np.array(
            [chapters.index(c[:2]) for c in self.heading_codes], dtype=np.int64
        )
        heads = [nom.headings[c] for c in self.heading_codes]
        subs = [nom.subheadings[c] for c in self.sub_codes]
        chapter = {c: nom.chapters.get(c[:2], "") for c in self.heading_codes}

        self.vocabulary_en = {w for n in (*heads, *subs) for w in words(n.text_en)}
        self.vocabulary_pt = {w for n in (*heads, *subs) for w in words(n.text_pt)}
        self.head_leads = [
            {t for t in (_lead(pt_terms(n.text_pt)), _lead(en_terms(n.text_en))) if t}
            for n in heads
        ]
        self.bm25_head = BM25([en_terms(f"{chapter[n.code]} {n.text_en}") for n in heads])
        self.bm25_sub = BM25(
            [en_terms(f"{nom.headings[n.code[:4]].text_en} {n.text_en}") for n in subs]
        )
        texts_en = [n.text_en for n in heads] + [n.text_en for n in subs]
        matrix, self.cached = encoder.encode_cached(texts_en, cache_dir, prefix="hs-embeddings")
        h = len(heads)
        self.emb_head_en, self.emb_sub_en = matrix[:h], matrix[h:]
        self.sub_pos = {code: i for i, code in enumerate(self.sub_codes)}
        self.has_pt = nom.has_ncm
        if self.has_pt:
            self.bm25_head_pt = BM25([pt_terms(n.text_pt) for n in heads])
            self.bm25_sub_pt = BM25([pt_terms(n.text_pt) for n in subs])
            texts_pt = [n.text_pt for n in heads] + [n.text_pt for n in subs]
            matrix, cached_pt = encoder.encode_cached(texts_pt, cache_dir, prefix="ncm-embeddings")
            self.cached = self.cached and cached_pt
            self.emb_head_pt, self.emb_sub_pt = matrix[:h], matrix[h:]

    def language(self, text: str) -> str:
        """ "pt" or "en" when more of the text's words belong only to that language's
        nomenclature texts, else "?"."""
        tokens = [w for w in words(text) if not w.isdigit()]
        pt = sum(w in self.vocabulary_pt and w not in self.vocabulary_en for w in tokens)
        en = sum(w in self.vocabulary_en and w not in self.vocabulary_pt for w in tokens)
        return "pt" if pt > en else "en" if en > pt else "?"

    def query_language(self, text: str) -> str:
        """:meth:`language`, with the Portuguese table; without it the language decides
        nothing (see :meth:`score`) and is not computed: "?"."""
        return self.language(text) if self.has_pt else "?"

    def embed_query(
        self, text_pt: str, segments: tuple[str, ...], language: str | None = None
    ) -> Query:
        """``language``: :meth:`query_language` of ``text_pt``, if the caller has it."""
        text_en = " ".join(segments) or text_pt
        head = segments[0] if segments else text_pt
        leads = {_lead(pt_terms(text_pt)), _lead(en_terms(head))} - {""}
        vectors = self.encoder.encode([text_pt, text_en, head])
        if language is None:
            language = self.query_language(text_pt)
        return Query(text_pt, segments, vectors, language, frozenset(leads))

    def score(
        self,
        query: Query,
        weights: Weights,
        chapter_prior: dict[str, float] | None = None,
        *,
        hidden: str | None = None,
    ) -> Scores:
        """Scores of every heading and subheading. ``hidden`` (a subheading code) leaves that
        subheading's Portuguese texts out: the evaluation's guard when the query itself comes
        from an NCM table."""
        terms_en = query.terms_en(weights.position_decay)
        head_emb = _cosines(query.vectors, self.emb_head_en, weights.head_vector)
        sub_emb = _cosines(query.vectors, self.emb_sub_en, weights.head_vector)
        head_lex = _unit(self.bm25_head.scores(terms_en))
        sub_lex = _unit(self.bm25_sub.scores(terms_en))
        if self.has_pt and query.language != "en":
            terms_pt = query.terms_pt(weights.position_decay)
            sub_emb_pt = _best_cosine(query.vectors[:1], self.emb_sub_pt)
            sub_lex_pt = _unit(self.bm25_sub_pt.scores(terms_pt))
            if hidden in self.sub_pos:
                sub_emb_pt[self.sub_pos[hidden]] = sub_lex_pt[self.sub_pos[hidden]] = 0.0
            head_emb = np.maximum(head_emb, _best_cosine(query.vectors[:1], self.emb_head_pt))
            sub_emb = np.maximum(sub_emb, sub_emb_pt)
            head_lex = np.maximum(head_lex, _unit(self.bm25_head_pt.scores(terms_pt)))
            sub_lex = np.maximum(sub_lex, sub_lex_pt)
        sub = weights.sub_embed * sub_emb + weights.sub_lexical * sub_lex
        best_sub = np.full(len(self.heading_codes), -1.0, dtype=np.float32)
        np.maximum.at(best_sub, self.sub_parent, sub)
        best_sub[best_sub < -0.5] = 0.0
        head = (
            weights.head_embed * head_emb
            + weights.head_lexical * head_lex
            + weights.head_best_sub * best_sub
        )
        if weights.lead and query.leads:
            lead = np.array([bool(query.leads & h) for h in self.head_leads], dtype=np.float32)
            head = head + weights.lead * lead
        if chapter_prior:
            prior = np.array([chapter_prior.get(c[:2], 0.0) for c in self.heading_codes])
            head = head + weights.manufacturer * prior.astype(np.float32)
        if weights.chapter:
            head = head + weights.chapter * self._chapter_best(head)
        sub_total = weights.sub_in_head * sub + head[self.sub_parent]
        return Scores(head.astype(np.float32), sub_total.astype(np.float32))

    def top_codes(self, sub_scores: FloatArray, k: int) -> tuple[list[str], list[str]]:
        """The ``k`` best headings, in the order of their best subheading, and the ``k`` best
        subheadings (digits)."""
        order = np.argsort(-sub_scores)[: k * 20]
        subs = [self.sub_codes[int(i)] for i in order]
        return list(dict.fromkeys(code[:4] for code in subs))[:k], subs[:k]

    def top_headings(self, sub_scores: FloatArray, k: int) -> list[str]:
        """The ``k`` best headings, in the order of their best subheading."""
        return self.top_codes(sub_scores, k)[0]

    def _chapter_best(self, head: FloatArray) -> FloatArray:
        """Each heading's chapter's best heading score: a heading of a chapter that has a
        strong match elsewhere gains over an isolated match in an unrelated chapter."""
        best = np.full(int(self.head_chapter.max()) + 1, -np.inf, dtype=np.float32)
        np.maximum.at(best, self.head_chapter, head.astype(np.float32))
        out: FloatArray = best[self.head_chapter]
        return out


def _lead(terms: list[str]) -> str:
    return terms[0] if terms else ""


def _positional(groups: Iterable[list[str]], decay: float) -> dict[str, float]:
    """Term weights decaying with the position of the term group they come from."""
    out: dict[str, float] = {}
    rank = 0
    for group in groups:
        if not group:
            continue
        for term in group:
            out[term] = max(out.get(term, 0.0), decay**rank)
        rank += 1
    return out


def _cosines(queries: FloatArray, docs: FloatArray, head_weight: float) -> FloatArray:
    """Best of (Portuguese, English) cosine plus a bonus for the head-term cosine."""
    full = _best_cosine(queries[:2], docs)
    head: FloatArray = (docs @ queries[2]).astype(np.float32)
    return full + head_weight * head


def _best_cosine(queries: FloatArray, docs: FloatArray) -> FloatArray:
    sims: npt.NDArray[np.float32] = (docs @ queries.T).max(axis=1)
    return sims.astype(np.float32)


def _unit(values: FloatArray) -> FloatArray:
    top = float(values.max()) if values.size else 0.0
    return values / top if top > 0 else values
