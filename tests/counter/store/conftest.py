import pytest

from balto.counter.store import Database


@pytest.fixture
def db(tmp_path):
    """A fresh registration database (test_database.py overrides it with a nested path)."""
    database = Database(tmp_path / "registro.db")
    yield database
    database.close()
