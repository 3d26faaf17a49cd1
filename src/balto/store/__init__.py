"""Storage: one SQLite file through sqlite-utils (``database``), written from one place
(``store``)."""

from balto.store.database import Balcao, Database
from balto.store.store import Store

__all__ = ["Balcao", "Database", "Store"]
