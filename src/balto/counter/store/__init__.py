"""Storage: one SQLite file, or PostgreSQL with ``DATABASE_URL`` (``backend``, the dialects'
differences in ``dialect``), behind one ``Database`` and written from one place (``store``)."""

from balto.counter.store.database import Database, open_database
from balto.counter.store.records import (
    Balcao,
    Cliente,
    CounterRecord,
    ExperimentRow,
    NewClienteKeys,
    ReportRow,
    RotatedKey,
)
from balto.counter.store.rules import RulesVersion, RulesVersionSummary
from balto.counter.store.store import Store

__all__ = [
    "Balcao",
    "Cliente",
    "CounterRecord",
    "Database",
    "ExperimentRow",
    "NewClienteKeys",
    "ReportRow",
    "RotatedKey",
    "RulesVersion",
    "RulesVersionSummary",
    "Store",
    "open_database",
]
