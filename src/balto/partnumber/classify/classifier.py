"""The classification pipeline: validate -> catalog -> interpret -> retrieve -> rank."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from balto.core.config import default_cache_dir
from balto.partnumber.classify.calibration import Calibration, heading_mass
from balto.partnumber.classify.catalog import Catalog
from balto.partnumber.classify.embeddings import FloatArray, shared_encoder
from balto.partnumber.classify.glossary import Glossary, Translation
from balto.partnumber.classify.index import Query, SearchIndex, Weights
from balto.partnumber.classify.models import (
    SOURCE_CATALOG,
    SOURCE_MODEL,
    SOURCE_PATTERN,
    Candidate,
    Classification,
    ClassifyRequest,
    Progress,
)
from balto.partnumber.classify.ncm import ItemRanker
from balto.partnumber.classify.ncm_csv import read_ncm_table
from balto.partnumber.classify.nomenclature import Nomenclature, attach_ncm, format_code, load_hs
from balto.partnumber.classify.patterns import match_partnumber
from balto.partnumber.classify.validation import clean_request

log = logging.getLogger(__name__)

TOTAL_STEPS = 5
# Softmax temperature over subheading scores, for the candidates' own scores.
TEMPERATURE = 0.1
TOP_K = 3

ProgressCallback = Callable[[Progress], None]
_VERBATIM = Glossary({})  # no entries: only words the English nomenclature uses pass


class Classifier:
    """Offline HS / NCM classifier. ``classify`` is blocking and thread-safe."""

    def __init__(
        self,
        nomenclature: Nomenclature,
        index: SearchIndex,
        glossary: Glossary,
        catalog: Catalog,
        items: ItemRanker | None,
        weights: Weights | None = None,
        calibration: Calibration | None = None,
    ) -> None:
        self.nomenclature = nomenclature
        self.index = index
        self.glossary = glossary
        self.catalog = catalog
        self.items = items
        self.weights = weights or Weights()
        self.calibration = calibration or Calibration.load_default()
        self._heading_pos = {code: i for i, code in enumerate(index.heading_codes)}
        self.load_seconds = 0.0
        self.cached = index.cached and (items is None or items.cached)

    @classmethod
    def load(
        cls,
        *,
        catalog_csv: Path | None = None,
        ncm_table: Path | None = None,
        cache_dir: Path | None = None,
    ) -> Classifier:
        """Build the classifier. ``ncm_table``: the Portuguese NCM table (CSV of OCA l10n-br or
        the official JSON, see :func:`read_ncm_table`); none by default here, the service
        chooses one (``balto.partnumber.config.resolve_ncm_table``). Nomenclature embeddings
        are cached under ``cache_dir`` (default: ``$XDG_CACHE_HOME/balto/partnumber``)."""
        started = time.perf_counter()
        cache = cache_dir if cache_dir is not None else default_cache_dir() / "partnumber"
        nom = load_hs()
        if ncm_table is not None:
            attach_ncm(nom, read_ncm_table(ncm_table))
        catalog = Catalog.load_csv(catalog_csv) if catalog_csv is not None else Catalog([])
        encoder = shared_encoder()
        index = SearchIndex(nom, encoder, cache)
        items = ItemRanker(nom, encoder, cache) if nom.has_ncm else None
        classifier = cls(nom, index, Glossary.load_default(), catalog, items)
        classifier.load_seconds = time.perf_counter() - started
        log.info(
            "classificador carregado em %.1f s (cache %s, catálogo %d itens, NCM %s)",
            classifier.load_seconds,
            "quente" if classifier.cached else "frio",
            len(catalog),
            "sim" if nom.has_ncm else "não",
        )
        return classifier

    def classify(self, request: ClassifyRequest, progress: ProgressCallback) -> Classification:
        progress(Progress(1, TOTAL_STEPS, "Validando dados do item..."))
        request = clean_request(request)
        description = request.description or ""

        progress(Progress(2, TOTAL_STEPS, "Consultando catálogo..."))
        hit = self.catalog.lookup(request.partnumber, request.manufacturer)
        if hit is not None:
            confidence = 1.0 if hit.exact else 0.9
            candidate = Candidate(format_code(hit.item.code), self._describe(hit.item.code), 1.0)
            progress(Progress(TOTAL_STEPS, TOTAL_STEPS, "Item encontrado no catálogo"))
            return Classification(
                request.partnumber,
                description or hit.item.description,
                candidate,
                [candidate],
                confidence,
                SOURCE_CATALOG,
                "Código obtido do catálogo de itens conhecidos"
                + ("" if hit.exact else " (fabricante diferente do informado)"),
            )
        if not description:
            return self._from_partnumber(request, progress)

        progress(Progress(3, TOTAL_STEPS, "Interpretando a descrição..."))
        translation, query = self.interpret(description)

        progress(Progress(4, TOTAL_STEPS, "Buscando candidatos na nomenclatura..."))
        scores = self._scores(query, request.manufacturer)

        progress(Progress(5, TOTAL_STEPS, "Ranqueando por capítulo, posição e subposição..."))
        candidates = self._rank(scores, description, query.vectors[0])
        confidence = self._confidence(scores, candidates)
        # Without a single understood word the ranking rests on the encoder alone: too weak
        # to answer (with an NCM table the Portuguese texts are matched directly instead).
        understood = translation.known > 0 or self.nomenclature.has_ncm
        abstain_below = self.calibration.abstain_below
        if not understood:
            confidence = min(confidence, abstain_below / 2)
        answer = candidates[0] if candidates and confidence >= abstain_below else None
        if answer is None:
            message = (
                "Descrição não reconhecida: verifique os candidatos manualmente"
                if not understood
                else "Confiança baixa: verifique os candidatos manualmente"
            )
        else:
            message = "Classificado pelo modelo a partir da descrição"
        return Classification(
            request.partnumber,
            description,
            answer,
            candidates,
            round(confidence, 4),
            SOURCE_MODEL,
            message,
        )

    def top_codes(
        self, description: str, manufacturer: str | None = None, k: int = TOP_K
    ) -> tuple[list[str], list[str]]:
        """The ``k`` best headings and subheadings (digits) for a description, without the
        catalog: headings in the order of their best subheading. Used by the evaluation."""
        query = self.interpret(description)[1]
        return self.index.top_codes(self._scores(query, manufacturer), k)

    def interpret(self, description: str) -> tuple[Translation, Query]:
        """The description's English rendering and its query. A description written in
        English (by the nomenclature's vocabularies; known only with the NCM table) is not
        read through the Portuguese glossary: "Madeira" wine is not wood, "cola" nuts not
        glue. Its nomenclature words pass through as they are."""
        language = self.index.query_language(description)
        glossary = _VERBATIM if language == "en" else self.glossary
        translation = glossary.translate(description, self.index.vocabulary_en)
        return translation, self.index.embed_query(description, translation.segments, language)

    def _from_partnumber(
        self, request: ClassifyRequest, progress: ProgressCallback
    ) -> Classification:
        """No description: what the part number's own form says (bearing series, DIN/ISO
        fastener standards), or no answer with the reason."""
        progress(Progress(3, TOTAL_STEPS, "Reconhecendo padrões do partnumber..."))
        hit = match_partnumber(
            request.partnumber, request.supplier, manufacturer=request.manufacturer
        )
        progress(Progress(TOTAL_STEPS, TOTAL_STEPS, "Classificação pelo partnumber"))
        if hit is None:
            return Classification(
                request.partnumber,
                "",
                None,
                [],
                0.0,
                SOURCE_PATTERN,
                "Sem resposta: o partnumber não está no catálogo, não segue um padrão conhecido "
                "(série de rolamento, norma DIN/ISO de fixador) e não veio descrição; envie "
                "'description' para classificar pelo modelo",
            )
        candidate = Candidate(hit.code, self._describe(hit.code.replace(".", "")), hit.confidence)
        answer = candidate if hit.confidence >= self.calibration.abstain_below else None
        prefix = "Classificado pelo padrão do partnumber: " if answer else "Sem resposta segura: "
        return Classification(
            request.partnumber,
            "",
            answer,
            [candidate],
            hit.confidence,
            SOURCE_PATTERN,
            prefix + hit.reason,
        )

    def raw_heading_confidence(
        self, description: str, manufacturer: str | None = None, *, hidden: str | None = None
    ) -> tuple[list[str], float]:
        """The 3 best headings (as :meth:`top_codes`) and the uncalibrated score of the first:
        what the evaluation fits the calibration on (``hidden``: see :meth:`SearchIndex.score`)."""
        query = self.interpret(description)[1]
        scores = self._scores(query, manufacturer, hidden)
        headings = self.index.top_headings(scores, TOP_K)
        return headings, self._raw_mass(scores, headings[0])

    def _raw_mass(self, scores: FloatArray, heading: str) -> float:
        mass = heading_mass(scores, self.index.sub_parent, self.calibration.temperature)
        return float(mass[self._heading_pos[heading]])

    def _confidence(self, scores: FloatArray, candidates: list[Candidate]) -> float:
        """Calibrated probability that the first candidate's heading is right."""
        if not candidates:
            return 0.0
        return round(self.calibration(self._raw_mass(scores, candidates[0].code[:4])), 4)

    def _scores(
        self, query: Query, manufacturer: str | None, hidden: str | None = None
    ) -> FloatArray:
        prior = self.catalog.chapter_prior(manufacturer)
        return self.index.score(query, self.weights, prior, hidden=hidden).subheadings

    def _rank(self, scores: FloatArray, description: str, vector: FloatArray) -> list[Candidate]:
        logits = (scores - scores.max()) / TEMPERATURE
        probs = np.exp(logits)
        probs /= probs.sum()
        order = np.argsort(-probs)[: TOP_K * 2]
        out: list[Candidate] = []
        for i in order:
            code6 = self.index.sub_codes[int(i)]
            p_sub = float(probs[i])
            ranked = self.items.rank(code6, description, vector) if self.items else []
            if not ranked:
                out.append(Candidate(format_code(code6), self._describe(code6), p_sub))
                continue
            for node, p_item in ranked[:TOP_K]:
                out.append(Candidate(format_code(node.code), node.description, p_sub * p_item))
        # The answer is the best item of the most probable subheading (the level the model
        # ranks, and the evaluation measures): sorted by the joint score alone, a subheading
        # with a single item (p_item 1) would beat a likelier one whose items share its
        # probability ("rolamento de esferas": 8482.30.00, barrel rollers, over 8482.10).
        # The alternatives follow by joint score.
        answer, rest = out[0], sorted(out[1:], key=lambda c: -c.score)
        return [
            Candidate(c.code, c.description, round(c.score, 4)) for c in [answer, *rest][:TOP_K]
        ]

    def _describe(self, code: str) -> str:
        nom = self.nomenclature
        if len(code) == 8:
            for node in nom.items.get(code[:6], []):
                if node.code == code:
                    return node.description
        sub = nom.subheadings.get(code[:6])
        return sub.description if sub is not None else ""
