"""The two backends behind ``Database``: one SQLite file, or a pool of PostgreSQL connections.

Both hand out a ``Conn`` (one call's connection, SQL written once with ``?`` placeholders, the
dialect's differences applied by ``dialect``). Driver exceptions become ours in one place,
``failures``: an integrity violation is ``IntegrityFault``, anything else ``StorageError``,
each with what we were doing. Blocking: ``Store`` runs every call in its worker threads, at
most ``capacity`` at a time (SQLite: 1, its one connection; PostgreSQL: the pool's size).

Durability, the same promise on both: a call returns only after its transaction committed.
SQLite: WAL journal with ``synchronous=FULL`` (on disk at COMMIT). PostgreSQL: the server's
WAL is flushed at COMMIT; ``synchronous_commit`` is forced back on for our connections where
the server defaults it off, so an acknowledged row survives ``kill -9`` of Balto, of the
connection's server process and of PostgreSQL itself.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Protocol

import psycopg
from psycopg_pool import ConnectionPool

from balto.core.errors import StorageError
from balto.counter.store.dialect import POSTGRESQL, SQLITE, Dialect

#: What ``DATABASE_URL`` must start with to mean PostgreSQL.
POSTGRESQL_SCHEMES = ("postgresql://", "postgres://")


class IntegrityFault(StorageError):
    """A constraint refused the write; ``constraint`` names it (a unique index's column
    appears in it on both backends: ``clientes.email``, ``idx_clientes_email``)."""

    def __init__(self, message: str, constraint: str) -> None:
        super().__init__(message)
        self.constraint = constraint


@contextmanager
def failures(what: str) -> Iterator[None]:
    """The one conversion point: a driver's exception inside becomes ``StorageError``
    ("Falha ao <what>: …"); ours (``BadRequest``, ``Conflict``…) pass unchanged."""
    try:
        yield
    except sqlite3.IntegrityError as exc:
        raise IntegrityFault(f"Falha ao {what}: {exc}", str(exc)) from exc
    except psycopg.IntegrityError as exc:
        constraint = exc.diag.constraint_name or str(exc)
        raise IntegrityFault(f"Falha ao {what}: {exc}", constraint) from exc
    except (sqlite3.Error, psycopg.Error) as exc:
        raise StorageError(f"Falha ao {what}: {exc}") from exc


class Cursor(Protocol):
    @property
    def rowcount(self) -> int: ...
    @property
    def description(self) -> Any: ...
    def fetchone(self) -> Any: ...
    def fetchall(self) -> list[Any]: ...


class Conn:
    """One connection for the length of one ``Database`` call (autocommit: a transaction
    only where ``transaction`` opens one)."""

    def __init__(self, raw: sqlite3.Connection | psycopg.Connection[Any], dialect: Dialect):
        self._raw = raw
        self.dialect = dialect

    def execute(self, sql: str, params: Sequence[object] = ()) -> Cursor:
        cursor: Cursor = self._raw.execute(self.dialect.sql(sql), list(params))
        return cursor

    def rows(self, sql: str, params: Sequence[object] = ()) -> list[dict[str, Any]]:
        """The rows as ``{column: value}``."""
        cursor = self.execute(sql, params)
        names = [column[0] for column in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    @contextmanager
    def transaction(self, *, read_only: bool = False) -> Iterator[None]:
        """BEGIN … COMMIT; any exception rolls back and propagates. ``read_only``: one
        snapshot for every read inside."""
        self.execute(self.dialect.begin_read if read_only else self.dialect.begin_write)
        try:
            yield
        except BaseException:
            self.execute("ROLLBACK")
            raise
        self.execute("COMMIT")


class SqliteBackend:
    """One SQLite file, one connection (``capacity`` 1: the store's thread is its only user),
    lent to one caller at a time, so that a ``Database`` used directly from several threads
    (the operator's commands, tests) never interleaves two transactions on it."""

    dialect = SQLITE
    capacity = 1

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        try:
            if str(path) != ":memory:":
                self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StorageError(f"Não foi possível criar a pasta do banco de dados: {exc}") from exc
        with failures(f"abrir o banco de dados {path}"):
            self.raw = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
            self.raw.execute("PRAGMA journal_mode = WAL")
            self.raw.execute("PRAGMA synchronous = FULL")
            self.raw.execute("PRAGMA foreign_keys = ON")
            self.raw.execute("PRAGMA busy_timeout = 5000")
        self._conn = Conn(self.raw, SQLITE)
        self._lent = threading.RLock()

    @contextmanager
    def connection(self) -> Iterator[Conn]:
        with self._lent:
            yield self._conn

    def describe(self) -> str:
        return str(self.path)

    def close(self) -> None:
        self.raw.close()


def _configure(conn: psycopg.Connection[Any]) -> None:
    """Each new pooled connection: commits wait for the WAL flush (see the module's note)."""
    setting = conn.execute("SHOW synchronous_commit").fetchone()
    if setting is not None and setting[0] in ("off", "local"):
        conn.execute("SET synchronous_commit = on")


class PostgresBackend:
    """A pool of up to ``pool_size`` connections to ``url``. A connection that died (its
    server process killed, a restart) is found dead when taken and replaced; with none to be
    had within ``timeout_s`` the call fails as ``StorageError`` (a counter is refused 1013)."""

    dialect = POSTGRESQL

    def __init__(self, url: str, *, pool_size: int, timeout_s: float) -> None:
        self.capacity = pool_size
        self._url = url
        with failures("conectar ao PostgreSQL"):
            self.pool = ConnectionPool(
                url,
                min_size=1,
                max_size=pool_size,
                timeout=timeout_s,
                kwargs={"autocommit": True, "connect_timeout": max(1, round(timeout_s))},
                configure=_configure,
                check=ConnectionPool.check_connection,
                open=False,
                name="balto",
            )
            try:
                self.pool.open(wait=True, timeout=timeout_s)
            except BaseException:
                self.pool.close()
                raise

    @contextmanager
    def connection(self) -> Iterator[Conn]:
        with self.pool.connection() as raw:
            yield Conn(raw, POSTGRESQL)

    def describe(self) -> str:
        """The URL without its password (for the log)."""
        info = psycopg.conninfo.conninfo_to_dict(self._url)
        host, port, name = (info.get(key, "") for key in ("host", "port", "dbname"))
        return f"postgresql://{host}:{port}/{name}"

    def close(self) -> None:
        self.pool.close()


Backend = SqliteBackend | PostgresBackend


def open_backend(target: Path | str, *, pool_size: int = 4, timeout_s: float = 5.0) -> Backend:
    """PostgreSQL when ``target`` is a ``postgresql://`` URL, else the SQLite file it names."""
    if isinstance(target, str) and target.startswith(POSTGRESQL_SCHEMES):
        return PostgresBackend(target, pool_size=pool_size, timeout_s=timeout_s)
    return SqliteBackend(target)
