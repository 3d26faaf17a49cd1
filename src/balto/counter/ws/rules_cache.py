"""Rule sets per cliente: the shipped default unless the cliente has its own (parsed once)."""

from __future__ import annotations

from balto.counter.detect import RuleSet, default_rules, load_rules
from balto.counter.store import Balcao


class RulesCache:
    def __init__(self) -> None:
        self._default = default_rules()
        self._by_cliente: dict[int, tuple[str, RuleSet]] = {}

    @property
    def default(self) -> RuleSet:
        return self._default

    def for_balcao(self, balcao: Balcao) -> RuleSet:
        if not balcao.regras:
            return self._default
        cached = self._by_cliente.get(balcao.cliente_id)
        if cached is None or cached[0] != balcao.regras:
            cached = (balcao.regras, load_rules(balcao.regras))
            self._by_cliente[balcao.cliente_id] = cached
        return cached[1]
