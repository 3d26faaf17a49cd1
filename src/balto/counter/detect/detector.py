"""Sales opportunities in transcripts, with a per-rule cooldown (sans-IO: time is passed in).

``find_opportunities`` is pure: every rule with a trigger occurrence that is neither negated
nor overlapped by one of the rule's exclusions, in rule-set order, at most one per rule
(its leftmost occurrence, the longest one where several start at the same word).
Safety wins: when a referral rule (``tipo`` "encaminhar": a red-flag symptom) fires, the
utterance's product suggestions are dropped, so "meu bebê tá com febre" refers the customer
to the pharmacist and suggests no antipyretic. This happens before the cooldown, so a
referral still quiet from a moment ago keeps suppressing the suggestions.
``Detector`` adds the cooldown: a rule that fired stays quiet for ``cooldown_s``, so interim
and final decodes of one utterance give one suggestion. It also draws the wording: for a rule
with ``variantes`` each recommendation takes one of ``Rule.arms`` uniformly at random from the
``random.Random`` the shell hands in (a seeded one in tests), and says which in
``Opportunity.variante``.

``Opportunity.gatilho`` is the normalised transcript span that fired ("dor muito forte nas
costas"), never the whole transcript (LGPD).
"""

from __future__ import annotations

import dataclasses
import math
import random
from dataclasses import dataclass

from balto.counter.detect.negation import is_negated
from balto.counter.detect.normalize import analyse
from balto.counter.detect.rules import REFER, SUGGEST, RuleSet


@dataclass(frozen=True, slots=True)
class Opportunity:
    rule_id: str
    categoria: str
    mensagem: str
    produto: str  # "" for a referral
    gatilho: str
    tipo: str = SUGGEST  # "sugerir" or "encaminhar"
    variante: str | None = None  # the drawn wording's id; None: the rule has no variants

    @property
    def is_referral(self) -> bool:
        return self.tipo == REFER


def find_opportunities(rules: RuleSet, text: str) -> list[Opportunity]:
    """Every rule that ``text`` fires, in rule-set order, ignoring any cooldown."""
    tokens = analyse(text)
    if not tokens.content:
        return []
    owners = rules.compiled.owners
    triggers: dict[int, list[tuple[int, int]]] = {}
    vetoes: dict[int, list[tuple[int, int]]] = {}
    for match in rules.compiled.matcher.find(tokens):
        owner = owners[match.phrase]
        target = vetoes if owner.exclusion else triggers
        target.setdefault(owner.rule_index, []).append((match.start, match.end))
    found: list[Opportunity] = []
    for rule_index in sorted(triggers):
        blocked = vetoes.get(rule_index, [])
        for start, end in sorted(triggers[rule_index], key=lambda span: (span[0], -span[1])):
            if any(start < v_end and v_start < end for v_start, v_end in blocked):
                continue
            if is_negated(tokens, start, end):
                continue
            rule = rules.rules[rule_index]
            found.append(
                Opportunity(
                    rule.id,
                    rule.categoria,
                    rule.mensagem,
                    rule.produto,
                    tokens.span(start, end),
                    rule.tipo,
                )
            )
            break
    if any(o.is_referral for o in found):
        return [o for o in found if o.is_referral]
    return found


class Detector:
    """Per-counter detector: ``detect`` reports each rule at most once per ``cooldown_s``."""

    def __init__(
        self, rules: RuleSet, *, cooldown_s: float = 60.0, rng: random.Random | None = None
    ) -> None:
        if not math.isfinite(cooldown_s) or cooldown_s < 0:
            raise ValueError(f"cooldown_s must be finite and >= 0, not {cooldown_s!r}")
        self.rules = rules
        self.cooldown_s = cooldown_s
        self.rng = rng if rng is not None else random.Random()
        self._last_fired: dict[str, float] = {}

    def detect(self, text: str, now_s: float) -> list[Opportunity]:
        """Opportunities in ``text`` whose rule did not fire in the last ``cooldown_s``.

        ``now_s`` is any monotonic clock reading in seconds; a rule is quiet while
        ``now_s - last_fired < cooldown_s``.
        """
        if not math.isfinite(now_s):
            raise ValueError(f"now_s must be finite, not {now_s!r}")
        fresh: list[Opportunity] = []
        for opportunity in find_opportunities(self.rules, text):
            last = self._last_fired.get(opportunity.rule_id)
            if last is not None and now_s - last < self.cooldown_s:
                continue
            self._last_fired[opportunity.rule_id] = now_s
            fresh.append(self._draw(opportunity))
        return fresh

    def _draw(self, opportunity: Opportunity) -> Opportunity:
        """The opportunity in one of its rule's wordings, drawn uniformly (rules with
        variants only: the others keep their ``mensagem`` and no ``variante``)."""
        rule = self.rules.rule(opportunity.rule_id)
        if not rule.variantes:
            return opportunity
        arm = self.rng.choice(rule.arms)
        return dataclasses.replace(opportunity, mensagem=arm.mensagem, variante=arm.id)

    def use_rules(self, rules: RuleSet) -> None:
        """Detect with ``rules`` from now on (the chain replaced its rules mid-session).

        A rule that is still there (same id) keeps its cooldown, so an edited rule does not
        repeat itself to the customer who just heard it; a removed rule's is forgotten.
        """
        kept = {rule.id for rule in rules.rules}
        self._last_fired = {id_: t for id_, t in self._last_fired.items() if id_ in kept}
        self.rules = rules

    def reset(self) -> None:
        """Forget every cooldown (a new customer at the counter)."""
        self._last_fired.clear()
