"""A chain's own data, all of it: the export (``GET /api/dados``) and the deletion
(``DELETE /api/dados``). Blocking; called through ``Database`` on the store thread, on the
connection it took.

The export leaves out every secret and hash (``chave_admin_hash``, ``api_key_hash``, the
panel sessions) and the current ``regras`` (it is the newest of ``regras_versoes``, or the
default). Interactions are exported with every column they have, feedback included.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from balto.counter.store.backend import Conn

CLIENTE_FIELDS = ("id", "codigo", "email", "razao_social", "telefone", "idioma", "criado_em")
BALCAO_FIELDS = ("id", "nome_balcao", "criado_em", "visto_em", "revogado_em")


@dataclasses.dataclass(frozen=True, slots=True)
class DeletedChain:
    """What ``delete_chain`` removed: the counters' ids (to close their sockets) and counts."""

    balcao_ids: tuple[int, ...]
    interacoes: int
    regras_versoes: int
    sessoes: int


def export_chain(db: Conn, cliente_id: int) -> dict[str, Any]:
    """Everything stored about the chain, as JSON-ready values (one read transaction)."""
    with db.transaction(read_only=True):
        cliente = db.rows(
            f"SELECT {', '.join(CLIENTE_FIELDS)} FROM clientes WHERE id = ?", [cliente_id]
        )
        balcoes = db.rows(
            f"SELECT {', '.join(BALCAO_FIELDS)} FROM balcoes WHERE cliente_id = ? ORDER BY id",
            [cliente_id],
        )
        interacoes = db.rows(
            "SELECT i.* FROM interacoes i JOIN balcoes b ON b.id = i.balcao_id"
            f" WHERE b.cliente_id = ? ORDER BY i.criado_em, {db.dialect.order_interacoes('i')}",
            [cliente_id],
        )
        versoes = db.rows(
            "SELECT numero, regras, criado_em, autor FROM regras_versoes"
            " WHERE cliente_id = ? ORDER BY numero",
            [cliente_id],
        )
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


def delete_chain(db: Conn, cliente_id: int) -> DeletedChain:
    """Delete the chain and everything of it, in one transaction (children first: the
    foreign keys are enforced)."""
    by_chain = [cliente_id]
    with db.transaction():
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
        versoes = db.execute("DELETE FROM regras_versoes WHERE cliente_id = ?", by_chain).rowcount
        sessoes = db.execute("DELETE FROM sessoes WHERE cliente_id = ?", by_chain).rowcount
        db.execute("DELETE FROM clientes WHERE id = ?", by_chain)
    return DeletedChain(balcao_ids, interacoes, versoes, sessoes)
