"""The store's tests run on both backends: a SQLite file and a database of the session's real
PostgreSQL cluster (``tests.postgres``), through ``database_target``."""

from pathlib import Path

import pytest

from balto.counter.store import Database
from balto.counter.store.backend import Conn, open_backend
from balto.counter.store.schema import migrate


@pytest.fixture
def target(database_target) -> Path | str:
    """Where a fresh database lives (``tests/conftest.py``: once per backend)."""
    return database_target


@pytest.fixture
def db(target):
    database = Database(target)
    yield database
    database.close()


def old_database(target: Path | str, version: int, fill) -> None:
    """A database left at schema ``version`` by an older Balto, ``fill(conn)`` run on it."""
    backend = open_backend(target)
    try:
        migrate(backend, version)
        with backend.connection() as conn:
            assert isinstance(conn, Conn)
            with conn.transaction():
                fill(conn)
    finally:
        backend.close()
