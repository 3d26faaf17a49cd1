"""A chain's rule set and its history (blocking; ``Database`` calls these in its thread).

``clientes.regras`` is the current set (NULL: the shipped default), read with the counter at
auth; ``regras_versoes`` keeps every replacement, numbered per chain from 1, with when and by
whom. Both change in one transaction, so the current set is always the newest version's.
Version 0 is a chain that never changed its rules: the default, with no history.
"""

from __future__ import annotations

import dataclasses
import sqlite3
from datetime import UTC, datetime

import sqlite_utils

from balto.core.errors import PreconditionFailed, StorageError
from balto.counter.store.tx import transaction

#: ``autor`` of a version written by ``balto regras definir`` (the API writes ``chave_admin``).
CLI_AUTHOR = "cli"


@dataclasses.dataclass(frozen=True, slots=True)
class RulesVersion:
    """One version of a chain's rules: ``regras`` is the JSON text, None for the default;
    ``numero`` 0 (with ``criado_em`` and ``autor`` None) when the chain never changed them."""

    numero: int
    regras: str | None
    criado_em: str | None
    autor: str | None


@dataclasses.dataclass(frozen=True, slots=True)
class RulesVersionSummary:
    """A version without its rules: how many there were (None: the default set)."""

    numero: int
    criado_em: str
    autor: str
    quantidade_regras: int | None


def current_rules(db: sqlite_utils.Database, cliente_id: int) -> RulesVersion:
    try:
        row = db.execute(
            "SELECT c.regras, v.numero, v.criado_em, v.autor FROM clientes c"
            " LEFT JOIN regras_versoes v ON v.cliente_id = c.id AND v.numero ="
            " (SELECT MAX(numero) FROM regras_versoes WHERE cliente_id = c.id)"
            " WHERE c.id = ?",
            [cliente_id],
        ).fetchone()
    except sqlite3.Error as exc:
        raise StorageError(f"Falha ao consultar as regras: {exc}") from exc
    if row is None:
        raise StorageError(f"Cliente {cliente_id} não existe")
    regras, numero, criado_em, autor = row
    return RulesVersion(numero or 0, regras, criado_em, autor)


def replace_rules(
    db: sqlite_utils.Database,
    cliente_id: int,
    rules_json: str | None,
    autor: str,
    expected: int | None = None,
) -> RulesVersion:
    """Make ``rules_json`` (None: the default) the chain's rules, as its next version.
    With ``expected``, only if the current version is that one (else ``PreconditionFailed``:
    someone replaced them since they were read)."""
    now = datetime.now(UTC).isoformat(timespec="milliseconds")
    try:
        with transaction(db.conn):
            numero = db.execute(
                "SELECT COALESCE(MAX(numero), 0) + 1 FROM regras_versoes WHERE cliente_id = ?",
                [cliente_id],
            ).fetchone()[0]
            if expected is not None and expected != numero - 1:
                raise PreconditionFailed(
                    f"As regras mudaram: a versão atual é {numero - 1}, não {expected}."
                    " Leia de novo (GET /api/regras) antes de gravar"
                )
            cursor = db.execute(
                "UPDATE clientes SET regras = ? WHERE id = ?", [rules_json, cliente_id]
            )
            if cursor.rowcount != 1:
                raise StorageError(f"Cliente {cliente_id} não existe")
            db.execute(
                "INSERT INTO regras_versoes (cliente_id, numero, regras, criado_em, autor)"
                " VALUES (?, ?, ?, ?, ?)",
                [cliente_id, numero, rules_json, now, autor],
            )
    except sqlite3.Error as exc:
        raise StorageError(f"Falha ao gravar as regras: {exc}") from exc
    return RulesVersion(numero, rules_json, now, autor)


def rules_versions(db: sqlite_utils.Database, cliente_id: int) -> list[RulesVersionSummary]:
    """The chain's versions, newest first."""
    try:
        rows = db.execute(
            "SELECT numero, criado_em, autor,"
            " CASE WHEN regras IS NULL THEN NULL ELSE json_array_length(regras, '$.regras') END"
            " FROM regras_versoes WHERE cliente_id = ? ORDER BY numero DESC",
            [cliente_id],
        ).fetchall()
    except sqlite3.Error as exc:
        raise StorageError(f"Falha ao consultar as versões das regras: {exc}") from exc
    return [RulesVersionSummary(*row) for row in rows]


def rules_version(db: sqlite_utils.Database, cliente_id: int, numero: int) -> RulesVersion | None:
    """One of the chain's versions, or None (also for another chain's)."""
    try:
        row = db.execute(
            "SELECT numero, regras, criado_em, autor FROM regras_versoes"
            " WHERE cliente_id = ? AND numero = ?",
            [cliente_id, numero],
        ).fetchone()
    except sqlite3.Error as exc:
        raise StorageError(f"Falha ao consultar a versão das regras: {exc}") from exc
    return None if row is None else RulesVersion(*row)
