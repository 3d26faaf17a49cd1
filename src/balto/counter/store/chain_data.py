"""A chain's own data, all of it: the export (``GET /api/dados``) and the deletion
(``DELETE /api/dados``). Blocking; called through ``Database`` on the store thread.

The export leaves out every secret and hash (``chave_admin_hash``, ``api_key_hash``, the
panel sessions) and the current ``regras`` (it is the newest of ``regras_versoes``, or the
default). Interactions are exported with every column they have, feedback included.
"""

from __future__ import annotations

import dataclasses
import json
import sqlite3
from typing import Any

import sqlite_utils

from balto.core.errors import StorageError
from balto.counter.store.tx import transaction

CLIENTE_FIELDS = ("id", "codigo", "email", "razao_social", "telefone", "idioma", "criado_em")
BALCAO_FIELDS = ("id", "nome_balcao", "criado_em", "visto_em", "revogado_em")


@dataclasses.dataclass(frozen=True, slots=True)
class DeletedChain:
    """What ``delete_chain`` removed: the counters' ids (to close their sockets) and counts."""

    balcao_ids: tuple[int, ...]
    interacoes: int
    regras_versoes: int
    sessoes: int


def _rows(db: sqlite_utils.Database, sql: str, args: list[Any]) -> list[dict[str, Any]]:
    cursor = db.execute(sql, args)
    names = [column[0] for column in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def export_chain(db: sqlite_utils.Database, cliente_id: int) -> dict[str, Any]:
    """Everything stored about the chain, as JSON-ready values (one read transaction)."""
    try:
        db.conn.execute("BEGIN")
        try:
            cliente = _rows(
                db, f"SELECT {', '.join(CLIENTE_FIELDS)} FROM clientes WHERE id = ?", [cliente_id]
            )
            balcoes = _rows(
                db,
                f"SELECT {', '.join(BALCAO_FIELDS)} FROM balcoes WHERE cliente_id = ? ORDER BY id",
                [cliente_id],
            )
            interacoes = _rows(
                db,
                "SELECT i.* FROM interacoes i JOIN balcoes b ON b.id = i.balcao_id"
                " WHERE b.cliente_id = ? ORDER BY i.criado_em, i.rowid",
                [cliente_id],
            )
            versoes = _rows(
                db,
                "SELECT numero, regras, criado_em, autor FROM regras_versoes"
                " WHERE cliente_id = ? ORDER BY numero",
                [cliente_id],
            )
        finally:
            db.conn.execute("COMMIT")
    except sqlite3.Error as exc:
        raise StorageError(f"Falha ao exportar os dados da rede: {exc}") from exc
    return {
        "cliente": cliente[0] if cliente else None,
        "balcoes": balcoes,
        "interacoes": interacoes,
        "regras_versoes": [
            {
                "revisao": v["numero"],
                "padrao": v["regras"] is None,
                "criado_em": v["criado_em"],
                "autor": v["autor"],
                "conjunto": None if v["regras"] is None else json.loads(v["regras"]),
            }
            for v in versoes
        ],
    }


def delete_chain(db: sqlite_utils.Database, cliente_id: int) -> DeletedChain:
    """Delete the chain and everything of it, in one transaction (children first: the
    foreign keys are enforced)."""
    by_chain = [cliente_id]
    try:
        with transaction(db.conn):
            balcao_ids = tuple(
                row[0]
                for row in db.execute(
                    "SELECT id FROM balcoes WHERE cliente_id = ? ORDER BY id", by_chain
                ).fetchall()
            )
            interacoes = db.execute(
                "DELETE FROM interacoes WHERE balcao_id IN"
                " (SELECT id FROM balcoes WHERE cliente_id = ?)",
                by_chain,
            ).rowcount
            db.execute("DELETE FROM balcoes WHERE cliente_id = ?", by_chain)
            versoes = db.execute(
                "DELETE FROM regras_versoes WHERE cliente_id = ?", by_chain
            ).rowcount
            sessoes = db.execute("DELETE FROM sessoes WHERE cliente_id = ?", by_chain).rowcount
            db.execute("DELETE FROM clientes WHERE id = ?", by_chain)
    except sqlite3.Error as exc:
        raise StorageError(f"Falha ao apagar os dados da rede: {exc}") from exc
    return DeletedChain(balcao_ids, interacoes, versoes, sessoes)
