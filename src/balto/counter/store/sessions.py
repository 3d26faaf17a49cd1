"""The panel's login sessions (blocking; ``Database`` calls these in its thread, on the
connection it took).

A session id is 256 random bits handed to the browser once, in its cookie; the table keeps only
its SHA-256 (``sessoes.sessao_hash``), so a copy of the database opens no session. Each row has
an absolute expiry: a session ends ``SESSAO_TTL_S`` after the login however busy it is, at the
logout, or when the chain's ``chave_admin`` is replaced (``Database.issue_chave_admin``, in the
same transaction as the new key).
"""

from __future__ import annotations

import dataclasses
import hashlib
import secrets
from datetime import UTC, datetime, timedelta

from balto.counter.cadastro.secrets import hash_chave_admin, same_secret
from balto.counter.store.backend import Conn


@dataclasses.dataclass(frozen=True, slots=True)
class SessionRecord:
    """A live session: its chain and when it ends (UTC ISO 8601)."""

    cliente_id: int
    codigo: str
    razao_social: str
    expira_em: str


@dataclasses.dataclass(frozen=True, slots=True)
class NewSession:
    """What a login hands out once: the session id (the cookie's value) and its expiry."""

    sessao: str
    expira_em: str


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds")


def hash_session(sessao: str) -> str:
    # 256 random bits: nothing to brute-force, a fast unsalted hash suffices (as chave_admin).
    return hashlib.sha256(sessao.encode("utf-8")).hexdigest()


def login_chain(db: Conn, email: str, chave_admin: str) -> int | None:
    """The chain whose e-mail and management key these are (both must match), or None."""
    row = db.execute(
        "SELECT id, email, chave_admin_hash FROM clientes WHERE chave_admin_hash = ?",
        [hash_chave_admin(chave_admin)],
    ).fetchone()
    if row is None:
        return None
    right_key = same_secret(row[2], hash_chave_admin(chave_admin))
    right_email = same_secret(row[1], email.strip().lower())
    return int(row[0]) if right_key and right_email else None


def create(db: Conn, cliente_id: int, ttl_s: float) -> NewSession:
    """A new session for the chain; the expired rows of every chain go at the same time."""
    now = datetime.now(UTC)
    sessao = secrets.token_urlsafe(32)
    expira_em = _iso(now + timedelta(seconds=ttl_s))
    with db.transaction():
        db.execute("DELETE FROM sessoes WHERE expira_em <= ?", [_iso(now)])
        db.execute(
            "INSERT INTO sessoes (cliente_id, sessao_hash, criado_em, expira_em)"
            " VALUES (?, ?, ?, ?)",
            [cliente_id, hash_session(sessao), _iso(now), expira_em],
        )
    return NewSession(sessao=sessao, expira_em=expira_em)


def find(db: Conn, sessao: str) -> SessionRecord | None:
    """The live session with this id, or None (unknown, ended or expired)."""
    digest = hash_session(sessao)
    row = db.execute(
        "SELECT c.id, c.codigo, c.razao_social, s.expira_em, s.sessao_hash"
        " FROM sessoes s JOIN clientes c ON c.id = s.cliente_id"
        " WHERE s.sessao_hash = ? AND s.expira_em > ?",
        [digest, _iso(datetime.now(UTC))],
    ).fetchone()
    if row is None or not same_secret(row[4], digest):
        return None
    return SessionRecord(cliente_id=row[0], codigo=row[1], razao_social=row[2], expira_em=row[3])


def end(db: Conn, sessao: str) -> None:
    """The logout: the session stops authenticating at once."""
    with db.transaction():
        db.execute("DELETE FROM sessoes WHERE sessao_hash = ?", [hash_session(sessao)])
