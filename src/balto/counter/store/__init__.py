"""Storage: one SQLite file through sqlite-utils (``database``), written from one place
(``store``)."""

from balto.counter.store.database import (
    Balcao,
    Cliente,
    CounterRecord,
    Database,
    NewClienteKeys,
    ReportRow,
)
from balto.counter.store.rules import RulesVersion, RulesVersionSummary
from balto.counter.store.store import Store

__all__ = [
    "Balcao",
    "Cliente",
    "CounterRecord",
    "Database",
    "NewClienteKeys",
    "ReportRow",
    "RulesVersion",
    "RulesVersionSummary",
    "Store",
]
