"""Connection caps: a total and a per-address limit, counted as connections open and close."""

from __future__ import annotations

import dataclasses
from collections import Counter


@dataclasses.dataclass(frozen=True, slots=True)
class Refusal:
    reason: str


class ConnectionCaps:
    def __init__(self, *, total: int, per_address: int) -> None:
        self.total = total
        self.per_address = per_address
        self._open: Counter[str] = Counter()
        self._count = 0

    def open(self, address: str) -> Refusal | None:
        """Count a new connection, or refuse it (and count nothing)."""
        if self._count >= self.total:
            return Refusal("Servidor lotado: limite de conexões atingido")
        if self._open[address] >= self.per_address:
            return Refusal("Limite de conexões por endereço atingido")
        self._open[address] += 1
        self._count += 1
        return None

    def close(self, address: str) -> None:
        self._open[address] -= 1
        if self._open[address] <= 0:
            del self._open[address]
        self._count -= 1

    def __len__(self) -> int:
        return self._count
