"""The rows of a chain's wording experiments (``admin.experiments`` counts them). Blocking;
``Database`` calls this in its thread, on the connection it took."""

from __future__ import annotations

from balto.counter.store.backend import Conn
from balto.counter.store.records import ExperimentRow


def experiment_rows(db: Conn, cliente_id: int, start_utc: str, end_utc: str) -> list[ExperimentRow]:
    rows = db.execute(
        "SELECT i.regra, i.variante, i.mensagem, i.resultado"
        " FROM balcoes b JOIN interacoes i ON i.balcao_id = b.id"
        " WHERE b.cliente_id = ? AND i.variante IS NOT NULL"
        " AND i.criado_em >= ? AND i.criado_em < ?"
        " ORDER BY i.criado_em",
        [cliente_id, start_utc, end_utc],
    ).fetchall()
    return [tuple(row) for row in rows]
