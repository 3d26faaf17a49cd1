"""A chain's rule set and its history (blocking; ``Database`` calls these in its thread, on
the connection it took, and turns driver errors into ``StorageError``).

``clientes.regras`` is the current set (NULL: the shipped default), read with the counter at
auth; ``regras_versoes`` keeps every replacement, numbered per chain from 1, with when and by
whom. Both change in one transaction, so the current set is always the newest version's.
Version 0 is a chain that never changed its rules: the default, with no history.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

from balto.core.errors import PreconditionFailed, StorageError
from balto.counter.store.backend import Conn

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


def current_rules(db: Conn, cliente_id: int) -> RulesVersion:
    row = db.execute(
        "SELECT c.regras, v.numero, v.criado_em, v.autor FROM clientes c"
        " LEFT JOIN regras_versoes v ON v.cliente_id = c.id AND v.numero ="
        " (SELECT MAX(numero) FROM regras_versoes WHERE cliente_id = c.id)"
        " WHERE c.id = ?",
        [cliente_id],
    ).fetchone()
    if row is None:
        raise StorageError(f"Cliente {cliente_id} não existe")
    regras, numero, criado_em, autor = row
    return RulesVersion(numero or 0, regras, criado_em, autor)


def replace_rules(
    db: Conn,
    cliente_id: int,
    rules_json: str | None,
    autor: str,
    expected: int | None = None,
) -> RulesVersion:
    """Make ``rules_json`` (None: the default) the chain's rules, as its next version.
    With ``expected``, only if the current version is that one (else ``PreconditionFailed``:
    someone replaced them since they were read).

    The chain's row is updated first: its lock (held to the commit) makes concurrent
    replacements of one chain's rules, from any instance, take their numbers one by one."""
    now = datetime.now(UTC).isoformat(timespec="milliseconds")
    with db.transaction():
        cursor = db.execute("UPDATE clientes SET regras = ? WHERE id = ?", [rules_json, cliente_id])
        if cursor.rowcount != 1:
            raise StorageError(f"Cliente {cliente_id} não existe")
        numero = db.execute(
            "SELECT COALESCE(MAX(numero), 0) + 1 FROM regras_versoes WHERE cliente_id = ?",
            [cliente_id],
        ).fetchone()[0]
        if expected is not None and expected != numero - 1:
            raise PreconditionFailed(
                f"As regras mudaram: a versão atual é {numero - 1}, não {expected}."
                " Leia de novo (GET /api/regras) antes de gravar"
            )
        db.execute(
            "INSERT INTO regras_versoes (cliente_id, numero, regras, criado_em, autor)"
            " VALUES (?, ?, ?, ?, ?)",
            [cliente_id, numero, rules_json, now, autor],
        )
    return RulesVersion(numero, rules_json, now, autor)


def rules_versions(db: Conn, cliente_id: int) -> list[RulesVersionSummary]:
    """The chain's versions, newest first."""
    count = db.dialect.rules_count.format(column="regras")
    rows = db.execute(
        f"SELECT numero, criado_em, autor, CASE WHEN regras IS NULL THEN NULL ELSE {count} END"
        " FROM regras_versoes WHERE cliente_id = ? ORDER BY numero DESC",
        [cliente_id],
    ).fetchall()
    return [RulesVersionSummary(*row) for row in rows]


def rules_version(db: Conn, cliente_id: int, numero: int) -> RulesVersion | None:
    """One of the chain's versions, or None (also for another chain's)."""
    row = db.execute(
        "SELECT numero, regras, criado_em, autor FROM regras_versoes"
        " WHERE cliente_id = ? AND numero = ?",
        [cliente_id, numero],
    ).fetchone()
    return None if row is None else RulesVersion(*row)
