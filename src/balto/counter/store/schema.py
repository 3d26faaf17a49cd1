"""Schema migrations for both backends, applied in order on start, each in its own transaction
with the version it reaches (SQLite: ``PRAGMA user_version``; PostgreSQL: ``balto_schema``).

The DDL is written once; ``{pk}`` is the dialect's self-numbering integer key. Text timestamps
(UTC ISO 8601) and JSON as text keep the two schemas the same. On PostgreSQL each step holds an
advisory lock and re-reads the version, so instances started together migrate once.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from balto.counter.store.backend import Backend, Conn, failures


def _run(conn: Conn, *statements: str) -> None:
    for statement in statements:
        conn.execute(statement.format(pk=conn.dialect.serial_pk))


def _v1(conn: Conn) -> None:
    _run(
        conn,
        "CREATE TABLE clientes (id {pk}, codigo TEXT NOT NULL, email TEXT NOT NULL,"
        " razao_social TEXT NOT NULL, telefone TEXT NOT NULL,"
        " idioma TEXT NOT NULL DEFAULT 'pt',"
        " regras TEXT,"  # per-cliente rule set as JSON; NULL = the shipped default
        " criado_em TEXT NOT NULL)",
        "CREATE UNIQUE INDEX idx_clientes_codigo ON clientes (codigo)",
        "CREATE UNIQUE INDEX idx_clientes_email ON clientes (email)",
        "CREATE TABLE balcoes (id {pk}, cliente_id INTEGER NOT NULL REFERENCES clientes(id),"
        " nome_balcao TEXT NOT NULL, api_key_hash TEXT NOT NULL, criado_em TEXT NOT NULL)",
        "CREATE UNIQUE INDEX idx_balcoes_api_key_hash ON balcoes (api_key_hash)",
        "CREATE TABLE interacoes (id TEXT PRIMARY KEY,"
        " balcao_id INTEGER NOT NULL REFERENCES balcoes(id), regra TEXT NOT NULL,"
        " categoria TEXT, mensagem TEXT NOT NULL, produto TEXT, gatilho TEXT NOT NULL,"
        " transcricao TEXT,"  # only with STORE_TRANSCRIPTS=1 (LGPD: off by default)
        " resultado TEXT, criado_em TEXT NOT NULL, feedback_em TEXT)",
        "CREATE INDEX idx_interacoes_balcao_id_criado_em ON interacoes (balcao_id, criado_em)",
    )


def _v2(conn: Conn) -> None:
    """The management API: a chain's key (hash only; NULL for chains registered before it),
    when a counter was last seen and when its api_key was revoked (NULL: never)."""
    _run(
        conn,
        "ALTER TABLE clientes ADD COLUMN chave_admin_hash TEXT",
        "CREATE UNIQUE INDEX idx_clientes_chave_admin_hash ON clientes (chave_admin_hash)",
        "ALTER TABLE balcoes ADD COLUMN visto_em TEXT",
        "ALTER TABLE balcoes ADD COLUMN revogado_em TEXT",
    )


def _v3(conn: Conn) -> None:
    """Rule set history: every replacement of a chain's rules (API or CLI), numbered per chain
    from 1; ``regras`` NULL = back to the shipped default; ``autor`` says who (``chave_admin``,
    ``cli``). ``clientes.regras`` stays the current set, read with the counter at auth.

    A chain that had its own rules before the history gets them as version 1, by ``migracao``
    at the migration's time (when they were really set was not recorded)."""
    _run(
        conn,
        "CREATE TABLE regras_versoes (id {pk},"
        " cliente_id INTEGER NOT NULL REFERENCES clientes(id), numero INTEGER NOT NULL,"
        " regras TEXT, criado_em TEXT NOT NULL, autor TEXT NOT NULL)",
        "CREATE UNIQUE INDEX idx_regras_versoes_cliente_id_numero"
        " ON regras_versoes (cliente_id, numero)",
    )
    now = datetime.now(UTC).isoformat(timespec="milliseconds")
    conn.execute(
        "INSERT INTO regras_versoes (cliente_id, numero, regras, criado_em, autor)"
        " SELECT id, 1, regras, ?, 'migracao' FROM clientes WHERE regras IS NOT NULL",
        [now],
    )


def _v4(conn: Conn) -> None:
    """The panel's login sessions: only the SHA-256 of the random session id is kept (the
    cookie is the secret), with the chain and an absolute expiry (UTC ISO 8601). A row past
    ``expira_em`` no longer authenticates; expired rows are purged at the next login."""
    _run(
        conn,
        "CREATE TABLE sessoes (id {pk}, cliente_id INTEGER NOT NULL REFERENCES clientes(id),"
        " sessao_hash TEXT NOT NULL, criado_em TEXT NOT NULL, expira_em TEXT NOT NULL)",
        "CREATE UNIQUE INDEX idx_sessoes_sessao_hash ON sessoes (sessao_hash)",
        "CREATE INDEX idx_sessoes_cliente_id ON sessoes (cliente_id)",
        "CREATE INDEX idx_sessoes_expira_em ON sessoes (expira_em)",
    )


def _v5(conn: Conn) -> None:
    """Retention deletes the oldest interactions first: by creation time, indexed (PostgreSQL
    has no rowid order to walk)."""
    _run(conn, "CREATE INDEX idx_interacoes_criado_em ON interacoes (criado_em)")


def _v6(conn: Conn) -> None:
    """Wording experiments: which of its rule's message variants a recommendation drew (the
    variant's id, ``padrao`` for the rule's own ``mensagem``); NULL when the rule had no
    variants, as for every interaction recorded before."""
    _run(conn, "ALTER TABLE interacoes ADD COLUMN variante TEXT")


MIGRATIONS: tuple[Callable[[Conn], None], ...] = (_v1, _v2, _v3, _v4, _v5, _v6)


def _version(conn: Conn) -> int:
    return int(conn.execute(conn.dialect.version_read).fetchone()[0])


def migrate(backend: Backend, target: int = len(MIGRATIONS)) -> int:
    """Apply the pending migrations up to ``target`` (tests build old databases with a lower
    one), each in its own transaction; return the schema version."""
    with failures("migrar o banco de dados"), backend.connection() as conn:
        dialect = conn.dialect
        if dialect.version_setup is not None:
            with conn.transaction():
                if dialect.migration_lock is not None:
                    conn.execute(dialect.migration_lock)
                conn.execute(dialect.version_setup)
        for number in range(_version(conn) + 1, target + 1):
            with conn.transaction():
                if dialect.migration_lock is not None:
                    conn.execute(dialect.migration_lock)
                if _version(conn) >= number:
                    continue  # another instance got there first
                MIGRATIONS[number - 1](conn)
                for statement in dialect.version_write:
                    conn.execute(statement.format(version=number))
        return _version(conn)
