"""Rule sets per chain (cliente), parsed once per version, and how a live session follows them.

A chain's rules are versioned in the store (``regras_versoes``; 0: never changed, the shipped
default). The cache keeps the newest version it has seen per chain: from a counter's auth
(what the database said then) or from ``PUT /api/regras`` (``publish``, after the write).
It never goes back to an older version, so an auth that read the database just before a
replacement cannot undo it. A live session asks ``refresh`` before each decode and its
detector swaps to the newer rules without reconnecting. No I/O.
"""

from __future__ import annotations

import dataclasses

from balto.counter.detect import Detector, RuleSet, default_rules, load_rules


@dataclasses.dataclass(frozen=True, slots=True)
class ChainRules:
    revision: int  # the chain's rules version (``regras_versoes.numero``; 0: never changed)
    rules: RuleSet


class RulesCache:
    def __init__(self) -> None:
        self._default = default_rules()
        self._by_cliente: dict[int, ChainRules] = {}

    @property
    def default(self) -> RuleSet:
        return self._default

    def for_chain(self, cliente_id: int, revision: int, rules_json: str | None) -> ChainRules:
        """At a counter's auth: the chain's rules as the database had them (``rules_json``,
        None for the default, at ``revision``), unless a newer version is known already."""
        cached = self._by_cliente.get(cliente_id)
        if cached is not None and cached.revision >= revision:
            return cached
        rules = self._default if rules_json is None else load_rules(rules_json)
        return self._keep(cliente_id, ChainRules(revision, rules))

    def publish(self, cliente_id: int, revision: int, rules: RuleSet | None) -> ChainRules:
        """A new version was written (None: back to the default): the chain's live sessions
        pick it up at their next decode."""
        cached = self._by_cliente.get(cliente_id)
        if cached is not None and cached.revision >= revision:
            return cached  # a newer one was published meanwhile
        return self._keep(cliente_id, ChainRules(revision, rules or self._default))

    def refresh(self, cliente_id: int, known: ChainRules, detector: Detector) -> ChainRules:
        """The chain's newest rules; ``detector`` (which runs ``known``) swaps to them if they
        are newer. Returns what the detector runs now."""
        latest = self._by_cliente.get(cliente_id)
        if latest is None or latest.revision <= known.revision:
            return known
        detector.use_rules(latest.rules)
        return latest

    def chains(self) -> list[int]:
        """The chains whose rules are held (to read again after missed changes)."""
        return list(self._by_cliente)

    def forget(self, cliente_id: int) -> None:
        """The chain was deleted: drop its rules (SQLite may give its id to a new chain)."""
        self._by_cliente.pop(cliente_id, None)

    def _keep(self, cliente_id: int, chain_rules: ChainRules) -> ChainRules:
        self._by_cliente[cliente_id] = chain_rules
        return chain_rules
