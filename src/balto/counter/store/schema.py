"""Schema migrations, applied in order on start; ``PRAGMA user_version`` records the last one."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import sqlite_utils

from balto.counter.store.tx import transaction


def _v1(db: sqlite_utils.Database) -> None:
    db.table("clientes").create(
        {
            "id": int,
            "codigo": str,
            "email": str,
            "razao_social": str,
            "telefone": str,
            "idioma": str,
            "regras": str,  # per-cliente rule set as JSON; NULL = the shipped default
            "criado_em": str,
        },
        pk="id",
        not_null={"codigo", "email", "razao_social", "telefone", "idioma", "criado_em"},
        defaults={"idioma": "pt"},
    )
    db.table("clientes").create_index(["codigo"], unique=True)
    db.table("clientes").create_index(["email"], unique=True)
    db.table("balcoes").create(
        {"id": int, "cliente_id": int, "nome_balcao": str, "api_key_hash": str, "criado_em": str},
        pk="id",
        not_null={"cliente_id", "nome_balcao", "api_key_hash", "criado_em"},
        foreign_keys=[("cliente_id", "clientes", "id")],
    )
    db.table("balcoes").create_index(["api_key_hash"], unique=True)
    db.table("interacoes").create(
        {
            "id": str,
            "balcao_id": int,
            "regra": str,
            "categoria": str,
            "mensagem": str,
            "produto": str,
            "gatilho": str,
            "transcricao": str,  # only with STORE_TRANSCRIPTS=1 (LGPD: off by default)
            "resultado": str,
            "criado_em": str,
            "feedback_em": str,
        },
        pk="id",
        not_null={"balcao_id", "regra", "mensagem", "gatilho", "criado_em"},
        foreign_keys=[("balcao_id", "balcoes", "id")],
    )
    db.table("interacoes").create_index(["balcao_id", "criado_em"])


def _v2(db: sqlite_utils.Database) -> None:
    """The management API: a chain's key (hash only; NULL for chains registered before it),
    when a counter was last seen and when its api_key was revoked (NULL: never)."""
    db.table("clientes").add_column("chave_admin_hash", str)
    db.table("clientes").create_index(["chave_admin_hash"], unique=True)
    db.table("balcoes").add_column("visto_em", str)
    db.table("balcoes").add_column("revogado_em", str)


def _v3(db: sqlite_utils.Database) -> None:
    """Rule set history: every replacement of a chain's rules (API or CLI), numbered per chain
    from 1; ``regras`` NULL = back to the shipped default; ``autor`` says who (``chave_admin``,
    ``cli``). ``clientes.regras`` stays the current set, read with the counter at auth.

    A chain that had its own rules before the history gets them as version 1, by ``migracao``
    at the migration's time (when they were really set was not recorded)."""
    db.table("regras_versoes").create(
        {
            "id": int,
            "cliente_id": int,
            "numero": int,
            "regras": str,
            "criado_em": str,
            "autor": str,
        },
        pk="id",
        not_null={"cliente_id", "numero", "criado_em", "autor"},
        foreign_keys=[("cliente_id", "clientes", "id")],
    )
    db.table("regras_versoes").create_index(["cliente_id", "numero"], unique=True)
    now = datetime.now(UTC).isoformat(timespec="milliseconds")
    db.execute(
        "INSERT INTO regras_versoes (cliente_id, numero, regras, criado_em, autor)"
        " SELECT id, 1, regras, ?, 'migracao' FROM clientes WHERE regras IS NOT NULL",
        [now],
    )


def _v4(db: sqlite_utils.Database) -> None:
    """The panel's login sessions: only the SHA-256 of the random session id is kept (the
    cookie is the secret), with the chain and an absolute expiry (UTC ISO 8601). A row past
    ``expira_em`` no longer authenticates; expired rows are purged at the next login."""
    db.table("sessoes").create(
        {"id": int, "cliente_id": int, "sessao_hash": str, "criado_em": str, "expira_em": str},
        pk="id",
        not_null={"cliente_id", "sessao_hash", "criado_em", "expira_em"},
        foreign_keys=[("cliente_id", "clientes", "id")],
    )
    db.table("sessoes").create_index(["sessao_hash"], unique=True)
    db.table("sessoes").create_index(["cliente_id"])
    db.table("sessoes").create_index(["expira_em"])


MIGRATIONS: tuple[Callable[[sqlite_utils.Database], None], ...] = (_v1, _v2, _v3, _v4)


def migrate(db: sqlite_utils.Database) -> int:
    """Apply the pending migrations, each in its own transaction; return the schema version."""
    version = int(db.execute("PRAGMA user_version").fetchone()[0])
    for number, step in enumerate(MIGRATIONS[version:], start=version + 1):
        with transaction(db.conn):
            step(db)
            db.execute(f"PRAGMA user_version = {number}")
    return len(MIGRATIONS)
