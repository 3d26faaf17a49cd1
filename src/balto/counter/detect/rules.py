"""Rules (data) and rule sets (validated, compiled for matching).

A ``Rule`` maps trigger phrases (``gatilhos``, natural Portuguese as customers say them) to
either a product suggestion (``tipo`` "sugerir": ``mensagem``, ``produto``, which must be an
over-the-counter medicine, ``mip`` true) or a referral to the pharmacist (``tipo``
"encaminhar": ``mensagem`` only, no product; red-flag symptoms). A rule is never both.
``exclusoes`` are phrases that veto the rule where
they overlap a trigger occurrence ("febre amarela" vetoes "febre"); they match exactly
(normalised, stopwords ignored, small gaps allowed), never fuzzily, so that a veto cannot
swallow a genuine complaint heard with a slip. Negation ("não tenho febre") is handled for
every rule by ``balto.counter.detect.negation`` and needs no exclusions.

A suggestion may carry ``variantes``, other wordings of its ``mensagem`` (a wording
experiment): each recommendation draws one of ``Rule.arms`` (the ``mensagem`` itself, as
variant ``padrao``, and every variant) uniformly at random (``Detector``), and the interaction
records which. A variant is only a text with a stable ``id``: product, triggers and exclusions
stay the rule's. Referrals carry none (the red-flag wording is not experimented with).

A ``RuleSet`` validates itself on construction (``InvalidRules``, a ``BadRequest`` with a
Portuguese message) and precompiles one ``PhraseMatcher`` for all its phrases.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from balto.core.errors import BadRequest
from balto.counter.detect.matcher import Phrase, PhraseMatcher
from balto.counter.detect.negation import NEGATION_WORDS
from balto.counter.detect.normalize import content_words, normalize

FORMAT_VERSION = 2
LEGACY_FORMAT_VERSION = 1  # read only: every rule a suggestion, written before ``tipo``/``mip``
SUGGEST = "sugerir"
REFER = "encaminhar"
KINDS = (SUGGEST, REFER)
MAX_RULES = 500
MAX_PHRASES_PER_RULE = 200
MAX_PHRASE_WORDS = 8  # content words
MAX_TEXT_CHARS = 200
RULE_ID_PATTERN = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")
VARIANT_ID_PATTERN = re.compile(r"[a-z0-9][a-z0-9_-]{0,31}")
BASE_VARIANT = "padrao"  # the rule's own ``mensagem``, one arm of its experiment
MAX_VARIANTS = 5  # besides the ``mensagem``
PROMPT_PREFIX = "Farmácia: "


class InvalidRules(BadRequest):
    """A rule set is malformed; the message (Portuguese) names the problem."""


@dataclass(frozen=True, slots=True)
class Variant:
    """One wording of a rule's message in its experiment."""

    id: str
    mensagem: str

    def to_data(self) -> dict[str, str]:
        return {"id": self.id, "mensagem": self.mensagem}


@dataclass(frozen=True, slots=True)
class Rule:
    id: str
    categoria: str
    gatilhos: tuple[str, ...]
    mensagem: str
    produto: str
    exclusoes: tuple[str, ...] = ()
    tipo: str = SUGGEST
    mip: bool = False  # the product is an over-the-counter medicine (required to suggest it)
    variantes: tuple[Variant, ...] = ()  # other wordings of ``mensagem`` (an experiment)

    @property
    def is_referral(self) -> bool:
        return self.tipo == REFER

    @property
    def arms(self) -> tuple[Variant, ...]:
        """What a recommendation draws from: the ``mensagem`` (``padrao``), then the variants;
        just the ``mensagem`` for a rule without variants."""
        return (Variant(BASE_VARIANT, self.mensagem), *self.variantes)

    def to_data(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": self.id,
            "tipo": self.tipo,
            "categoria": self.categoria,
            "gatilhos": list(self.gatilhos),
            "mensagem": self.mensagem,
        }
        if self.variantes:
            data["variantes"] = [v.to_data() for v in self.variantes]
        if not self.is_referral:
            data |= {"produto": self.produto, "mip": self.mip}
        data["exclusoes"] = list(self.exclusoes)
        return data


@dataclass(frozen=True, slots=True)
class PhraseOwner:
    """Which rule a compiled phrase belongs to, and whether it is a trigger or a veto."""

    rule_index: int
    exclusion: bool
    text: str


@dataclass(frozen=True, slots=True)
class CompiledRules:
    matcher: PhraseMatcher
    owners: tuple[PhraseOwner, ...]  # parallel to ``matcher.phrases``


@dataclass(frozen=True, slots=True)
class RuleSet:
    """An ordered, validated tuple of rules; earlier rules are reported first."""

    rules: tuple[Rule, ...]
    compiled: CompiledRules = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "compiled", _compile(self.rules))

    def __len__(self) -> int:
        return len(self.rules)

    def rule(self, rule_id: str) -> Rule:
        for rule in self.rules:
            if rule.id == rule_id:
                return rule
        raise KeyError(rule_id)

    def to_data(self) -> dict[str, Any]:
        return {"versao": FORMAT_VERSION, "regras": [r.to_data() for r in self.rules]}

    def to_json(self) -> str:
        """The rule set as JSON that ``load_rules`` reads back into an equal ``RuleSet``."""
        return json.dumps(self.to_data(), ensure_ascii=False, indent=2) + "\n"

    def vocabulary_prompt(self, max_chars: int = 200) -> str:
        """Key terms for a recogniser's initial prompt, at most ``max_chars`` long.

        The server no longer prompts whisper (``pipeline.decode_options``: measured, the prompt
        leaks its words into transcripts); this stays for ``bench.quality --com-prompt`` and
        ``bench.asr``, which measure that policy against the current one.

        Takes the first trigger of every rule, then the second, and so on (so put the
        canonical term first), skipping negated phrases and repeats, while it fits:
        ``"Farmácia: dor de cabeça, dor nas costas, febre, ... ."``. Returns "" when not even
        one term fits.
        """
        terms: list[str] = []
        seen: set[str] = set()
        length = len(PROMPT_PREFIX) + 1  # the final "."
        depth = max((len(r.gatilhos) for r in self.rules), default=0)
        for i in range(depth):
            for rule in self.rules:
                if i >= len(rule.gatilhos):
                    continue
                term = rule.gatilhos[i].strip()
                key = normalize(term)
                if key in seen or NEGATION_WORDS.intersection(key.split()):
                    continue
                extra = len(term) + (2 if terms else 0)
                if length + extra > max_chars:
                    continue
                terms.append(term)
                seen.add(key)
                length += extra
        if not terms:
            return ""
        return PROMPT_PREFIX + ", ".join(terms) + "."


def _fail(rule_index: int, rule_id: str, problem: str) -> InvalidRules:
    return InvalidRules(f"regra {rule_id!r} (regras[{rule_index}]): {problem}")


def _phrase_words(
    rule_index: int, rule_id: str, field_name: str, phrases: tuple[str, ...]
) -> list[tuple[str, ...]]:
    result: list[tuple[str, ...]] = []
    first_seen: dict[tuple[str, ...], str] = {}
    for n, text in enumerate(phrases):
        where = f"{field_name}[{n}]"
        if not text.strip():
            raise _fail(rule_index, rule_id, f"{where} está vazio")
        if len(text) > MAX_TEXT_CHARS:
            raise _fail(rule_index, rule_id, f"{where} passa de {MAX_TEXT_CHARS} caracteres")
        words = tuple(content_words(text))
        if not words:
            raise _fail(
                rule_index,
                rule_id,
                f"{where} {text!r} só tem palavras ignoradas (artigos, preposições...)",
            )
        if len(words) > MAX_PHRASE_WORDS:
            raise _fail(
                rule_index, rule_id, f"{where} {text!r} tem mais de {MAX_PHRASE_WORDS} palavras"
            )
        if words in first_seen:
            raise _fail(
                rule_index,
                rule_id,
                f"{where} {text!r} equivale a {first_seen[words]!r} "
                "(acentos, artigos e preposições são ignorados)",
            )
        first_seen[words] = text
        result.append(words)
    return result


def _check_rule(rule_index: int, rule: Rule) -> None:
    if not RULE_ID_PATTERN.fullmatch(rule.id):
        raise InvalidRules(
            f"regras[{rule_index}]: id {rule.id!r} inválido "
            "(use até 64 letras minúsculas sem acento, dígitos, '_' ou '-')"
        )
    _check_kind(rule_index, rule)
    for name in ("categoria", "mensagem", "produto"):
        value: str = getattr(rule, name)
        if not value.strip() and not (name == "produto" and rule.is_referral):
            raise _fail(rule_index, rule.id, f"{name} está vazio")
        if len(value) > MAX_TEXT_CHARS:
            raise _fail(rule_index, rule.id, f"{name} passa de {MAX_TEXT_CHARS} caracteres")
    if not rule.gatilhos:
        raise _fail(rule_index, rule.id, "a lista de gatilhos está vazia")
    if len(rule.gatilhos) + len(rule.exclusoes) > MAX_PHRASES_PER_RULE:
        raise _fail(rule_index, rule.id, f"mais de {MAX_PHRASES_PER_RULE} frases")
    _check_variants(rule_index, rule)


def _check_variants(rule_index: int, rule: Rule) -> None:
    """Variants: only on suggestions, at most ``MAX_VARIANTS``, each with its own valid id and
    its own non-empty text, none repeating another arm's text (spaces and case ignored)."""
    if not rule.variantes:
        return
    if rule.is_referral:
        raise _fail(
            rule_index,
            rule.id,
            "encaminhamento ao farmacêutico não tem variantes "
            "(o texto de alerta não entra em experimento)",
        )
    if len(rule.variantes) > MAX_VARIANTS:
        raise _fail(rule_index, rule.id, f"mais de {MAX_VARIANTS} variantes")
    ids: set[str] = set()
    texts = {_same_text(rule.mensagem): "mensagem"}
    for n, variant in enumerate(rule.variantes):
        where = f"variantes[{n}]"
        if not VARIANT_ID_PATTERN.fullmatch(variant.id):
            raise _fail(
                rule_index,
                rule.id,
                f"{where}: id {variant.id!r} inválido "
                "(use até 32 letras minúsculas sem acento, dígitos, '_' ou '-')",
            )
        if variant.id == BASE_VARIANT:
            raise _fail(
                rule_index, rule.id, f"{where}: o id {BASE_VARIANT!r} é o da própria mensagem"
            )
        if variant.id in ids:
            raise _fail(rule_index, rule.id, f"{where}: id {variant.id!r} repetido")
        ids.add(variant.id)
        if not variant.mensagem.strip():
            raise _fail(rule_index, rule.id, f"{where}: mensagem está vazia")
        if len(variant.mensagem) > MAX_TEXT_CHARS:
            raise _fail(
                rule_index, rule.id, f"{where}: mensagem passa de {MAX_TEXT_CHARS} caracteres"
            )
        key = _same_text(variant.mensagem)
        if key in texts:
            raise _fail(
                rule_index,
                rule.id,
                f"{where}: mensagem {variant.mensagem!r} repete a de {texts[key]}",
            )
        texts[key] = where


def _same_text(text: str) -> str:
    return " ".join(text.split()).casefold()


def _check_kind(rule_index: int, rule: Rule) -> None:
    """The safety policy: a referral carries no product; a suggestion only an MIP."""
    if rule.tipo not in KINDS:
        raise _fail(
            rule_index, rule.id, f"tipo {rule.tipo!r} inválido (use 'sugerir' ou 'encaminhar')"
        )
    if rule.is_referral:
        if rule.mip:
            raise _fail(
                rule_index,
                rule.id,
                "é encaminhamento ao farmacêutico e sugestão de MIP ao mesmo tempo "
                "(um encaminhamento não sugere produto; tire 'mip')",
            )
        if rule.produto.strip():
            raise _fail(
                rule_index,
                rule.id,
                f"encaminhamento ao farmacêutico não pode sugerir produto ({rule.produto!r})",
            )
    elif not rule.mip:
        raise _fail(
            rule_index,
            rule.id,
            "sugestão de produto sem a marca de MIP: só medicamentos isentos de prescrição "
            'podem ser sugeridos ("mip": true); sintomas de alerta usam '
            '"tipo": "encaminhar"',
        )


def _compile(rules: tuple[Rule, ...]) -> CompiledRules:
    if not rules:
        raise InvalidRules("o conjunto de regras está vazio")
    if len(rules) > MAX_RULES:
        raise InvalidRules(f"o conjunto tem {len(rules)} regras; o máximo é {MAX_RULES}")
    phrases: list[Phrase] = []
    owners: list[PhraseOwner] = []
    seen_ids: set[str] = set()
    for rule_index, rule in enumerate(rules):
        _check_rule(rule_index, rule)
        if rule.id in seen_ids:
            raise InvalidRules(f"regras[{rule_index}]: id {rule.id!r} repetido")
        seen_ids.add(rule.id)
        triggers = _phrase_words(rule_index, rule.id, "gatilhos", rule.gatilhos)
        vetoes = _phrase_words(rule_index, rule.id, "exclusoes", rule.exclusoes)
        for n, words in enumerate(vetoes):
            if words in triggers:
                raise _fail(
                    rule_index,
                    rule.id,
                    f"a exclusão {rule.exclusoes[n]!r} anula o gatilho de mesmo texto",
                )
        for text, words in zip(rule.gatilhos, triggers, strict=True):
            phrases.append(Phrase(words))
            owners.append(PhraseOwner(rule_index, False, text))
        for text, words in zip(rule.exclusoes, vetoes, strict=True):
            phrases.append(Phrase(words, exact=True))
            owners.append(PhraseOwner(rule_index, True, text))
    return CompiledRules(PhraseMatcher(phrases), tuple(owners))
