"""A chain's management queries: its key, its counters (revocation, last seen) and the rows of
its reports. Blocking; ``Database`` calls these in its thread, on the connection it took."""

from __future__ import annotations

from datetime import UTC, datetime

from balto.core.errors import BadRequest, Conflict
from balto.counter.cadastro.secrets import (
    hash_api_key,
    hash_chave_admin,
    new_api_key,
    new_chave_admin,
    same_secret,
)
from balto.counter.cadastro.validate import INVALID_CODE
from balto.counter.store.backend import Conn
from balto.counter.store.records import Cliente, CounterRecord, ReportRow, RotatedKey

COUNTER_FIELDS = "id, nome_balcao, criado_em, visto_em, revogado_em"
REVOKED_NOT_ROTATED = "Balcão revogado: a chave não pode ser trocada; cadastre um novo balcão"
ROTATION_RACE = "A chave deste balcão está sendo trocada por outra chamada; tente de novo"


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


def rotate_api_key(db: Conn, cliente_id: int, balcao_id: int) -> RotatedKey | None:
    """See ``Database.rotate_api_key``."""
    for _ in range(5):
        api_key = new_api_key()
        with db.transaction():
            row = db.execute(
                f"SELECT {COUNTER_FIELDS}, api_key_hash FROM balcoes"
                " WHERE id = ? AND cliente_id = ?",
                [balcao_id, cliente_id],
            ).fetchone()
            if row is None:
                return None
            record, old_hash = CounterRecord(*row[:5]), row[5]
            if record.revogado_em is not None:
                raise Conflict(REVOKED_NOT_ROTATED)
            # Only if nobody replaced or revoked it since the read (PostgreSQL's concurrent
            # writers: the second re-reads the row after the first commits, and matches none).
            cursor = db.execute(
                "UPDATE balcoes SET api_key_hash = ?"
                " WHERE id = ? AND api_key_hash = ? AND revogado_em IS NULL",
                [hash_api_key(api_key), balcao_id, old_hash],
            )
        if cursor.rowcount == 1:
            return RotatedKey(api_key=api_key, record=record, chave_antiga_hash=old_hash)
    raise Conflict(ROTATION_RACE)


def key_hashes_of(db: Conn, cliente_id: int) -> dict[int, str]:
    """The chain's counters that are not revoked, with the hash of their current key."""
    rows = db.execute(
        "SELECT id, api_key_hash FROM balcoes WHERE cliente_id = ? AND revogado_em IS NULL",
        [cliente_id],
    ).fetchall()
    return {row[0]: row[1] for row in rows}


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
