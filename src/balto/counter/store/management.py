"""A chain's management queries: its key, its counters (revocation, last seen) and the rows of
its reports. Blocking; ``Database`` calls these in its thread, on the connection it took."""

from __future__ import annotations

from datetime import UTC, datetime

from balto.core.errors import BadRequest
from balto.counter.cadastro.secrets import hash_chave_admin, new_chave_admin, same_secret
from balto.counter.cadastro.validate import INVALID_CODE
from balto.counter.store.backend import Conn
from balto.counter.store.records import Cliente, CounterRecord, ReportRow

COUNTER_FIELDS = "id, nome_balcao, criado_em, visto_em, revogado_em"


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def cliente_for_chave_admin(db: Conn, chave_admin: str) -> Cliente | None:
    digest = hash_chave_admin(chave_admin)
    row = db.execute(
        "SELECT id, codigo, razao_social, chave_admin_hash FROM clientes"
        " WHERE chave_admin_hash = ?",
        [digest],
    ).fetchone()
    if row is None or not same_secret(row[3], digest):
        return None
    return Cliente(id=row[0], codigo=row[1], razao_social=row[2])


def issue_chave_admin(db: Conn, cliente_id: int | None, codigo: str | None) -> str:
    """See ``Database.issue_chave_admin``."""
    chave = new_chave_admin()
    where, value = ("id = ?", cliente_id) if codigo is None else ("codigo = ?", codigo)
    with db.transaction():
        cursor = db.execute(
            "UPDATE clientes SET chave_admin_hash = ? WHERE " + where,
            [hash_chave_admin(chave), value],
        )
        db.execute(
            "DELETE FROM sessoes WHERE cliente_id IN (SELECT id FROM clientes WHERE " + where + ")",
            [value],
        )
    if cursor.rowcount == 0:
        raise BadRequest(INVALID_CODE)
    return chave


def balcoes_of(db: Conn, cliente_id: int) -> list[CounterRecord]:
    rows = db.execute(
        f"SELECT {COUNTER_FIELDS} FROM balcoes WHERE cliente_id = ? ORDER BY id", [cliente_id]
    ).fetchall()
    return [CounterRecord(*row) for row in rows]


def revoke_balcao(db: Conn, cliente_id: int, balcao_id: int) -> CounterRecord | None:
    """See ``Database.revoke_balcao``."""
    with db.transaction():
        db.execute(
            "UPDATE balcoes SET revogado_em = ?"
            " WHERE id = ? AND cliente_id = ? AND revogado_em IS NULL",
            [_now(), balcao_id, cliente_id],
        )
        row = db.execute(
            f"SELECT {COUNTER_FIELDS} FROM balcoes WHERE id = ? AND cliente_id = ?",
            [balcao_id, cliente_id],
        ).fetchone()
    return None if row is None else CounterRecord(*row)


def touch_balcao(db: Conn, balcao_id: int) -> bool:
    with db.transaction():
        cursor = db.execute("UPDATE balcoes SET visto_em = ? WHERE id = ?", [_now(), balcao_id])
    return cursor.rowcount > 0


def report_rows(db: Conn, cliente_id: int, start_utc: str, end_utc: str) -> list[ReportRow]:
    rows = db.execute(
        "SELECT b.id, b.nome_balcao, i.regra, i.produto, i.criado_em, i.resultado"
        " FROM balcoes b JOIN interacoes i ON i.balcao_id = b.id"
        " WHERE b.cliente_id = ? AND i.criado_em >= ? AND i.criado_em < ?",
        [cliente_id, start_utc, end_utc],
    ).fetchall()
    return [tuple(row) for row in rows]
