"""The blocking database layer. Every method runs in one worker thread at a time (see ``Store``).

Durability: WAL journal with ``synchronous=FULL``: a row is on disk once the call returns, so
whatever we acknowledged survives ``kill -9`` and power loss; our write rate (registrations,
one row per recommendation and per feedback) is far below what FULL costs.
"""

from __future__ import annotations

import dataclasses
import sqlite3
import uuid
from datetime import UTC, datetime
from pathlib import Path

import sqlite_utils

from balto.core.errors import BadRequest, Conflict, StorageError
from balto.counter.cadastro.secrets import (
    hash_api_key,
    hash_chave_admin,
    new_api_key,
    new_chave_admin,
    new_codigo,
    same_secret,
)
from balto.counter.cadastro.validate import INVALID_CODE, NewBalcao, NewCliente
from balto.counter.store import chain_data, rules, sessions
from balto.counter.store.chain_data import DeletedChain
from balto.counter.store.rules import RulesVersion, RulesVersionSummary
from balto.counter.store.schema import migrate
from balto.counter.store.sessions import NewSession
from balto.counter.store.tx import transaction

DUPLICATE = "Email ou código já existe..."
RESULTADOS = ("venda_realizada", "venda_perdida")


@dataclasses.dataclass(frozen=True, slots=True)
class Balcao:
    """An authenticated counter, as a WebSocket session needs it."""

    id: int
    nome_balcao: str
    cliente_id: int
    codigo: str
    idioma: str
    regras: str | None
    regras_revisao: int = 0  # the chain's rules version ``regras`` is (0: never changed)


@dataclasses.dataclass(frozen=True, slots=True)
class NewClienteKeys:
    """What a registration shows once: the enrolment code and the management key."""

    codigo: str
    chave_admin: str


@dataclasses.dataclass(frozen=True, slots=True)
class Cliente:
    """A chain, as the management API knows it once its key is checked."""

    id: int
    codigo: str
    razao_social: str


@dataclasses.dataclass(frozen=True, slots=True)
class CounterRecord:
    """A counter as its chain's managers see it (timestamps: UTC ISO 8601, or None)."""

    id: int
    nome_balcao: str
    criado_em: str
    visto_em: str | None
    revogado_em: str | None


#: One interaction for the reports: (balcao_id, nome_balcao, regra, produto, criado_em,
#: resultado); ``resultado`` is None while the counter has not answered.
ReportRow = tuple[int, str, str, str | None, str, str | None]


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


class Database:
    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        try:
            if str(path) != ":memory:":
                self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StorageError(f"Não foi possível criar a pasta do banco de dados: {exc}") from exc
        try:
            conn = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
            self.db = sqlite_utils.Database(conn)
            self.db.enable_wal()
            self.db.execute("PRAGMA synchronous = FULL")
            self.db.execute("PRAGMA foreign_keys = ON")
            self.db.execute("PRAGMA busy_timeout = 5000")
            self.schema_version = migrate(self.db)
        except sqlite3.Error as exc:
            raise StorageError(f"Não foi possível abrir o banco de dados {path}: {exc}") from exc

    def close(self) -> None:
        self.db.close()

    # -- registration -------------------------------------------------------------------

    def create_cliente(self, new: NewCliente) -> NewClienteKeys:
        chave_admin = new_chave_admin()
        for _ in range(20):
            codigo = new_codigo()
            row = dict(
                dataclasses.asdict(new),
                codigo=codigo,
                chave_admin_hash=hash_chave_admin(chave_admin),
                criado_em=_now(),
            )
            try:
                with transaction(self.db.conn):
                    self.db.table("clientes").insert(row)
                return NewClienteKeys(codigo=codigo, chave_admin=chave_admin)
            except sqlite3.IntegrityError as exc:
                if "email" in str(exc):
                    raise Conflict(DUPLICATE) from exc
                # a codigo collision: draw again
            except sqlite3.Error as exc:
                raise StorageError(f"Falha ao gravar o cliente: {exc}") from exc
        raise Conflict(DUPLICATE)

    def create_balcao(self, new: NewBalcao) -> str:
        try:
            clientes = self.db.table("clientes")
            rows = list(clientes.rows_where("codigo = ?", [new.user_codigo], limit=1))
            if not rows or not same_secret(rows[0]["codigo"], new.user_codigo):
                raise BadRequest(INVALID_CODE)
            api_key = new_api_key()
            row = {
                "cliente_id": rows[0]["id"],
                "nome_balcao": new.nome_balcao,
                "api_key_hash": hash_api_key(api_key),
                "criado_em": _now(),
            }
            with transaction(self.db.conn):
                self.db.table("balcoes").insert(row)
            return api_key
        except sqlite3.Error as exc:
            raise StorageError(f"Falha ao gravar o balcão: {exc}") from exc

    def authenticate(self, api_key: str) -> Balcao | None:
        digest = hash_api_key(api_key)
        try:
            row = self.db.execute(
                "SELECT b.id, b.nome_balcao, b.api_key_hash, c.id, c.codigo, c.idioma, c.regras,"
                " (SELECT COALESCE(MAX(v.numero), 0) FROM regras_versoes v"
                " WHERE v.cliente_id = c.id)"
                " FROM balcoes b JOIN clientes c ON c.id = b.cliente_id"
                " WHERE b.api_key_hash = ? AND b.revogado_em IS NULL",
                [digest],
            ).fetchone()
        except sqlite3.Error as exc:
            raise StorageError(f"Falha ao consultar o balcão: {exc}") from exc
        if row is None or not same_secret(row[2], digest):
            return None
        return Balcao(
            id=row[0],
            nome_balcao=row[1],
            cliente_id=row[3],
            codigo=row[4],
            idioma=row[5],
            regras=row[6],
            regras_revisao=row[7],
        )

    # -- rules (the CLI by codigo, the management API by the chain's id) -----------------

    def set_rules(self, codigo: str, rules_json: str | None) -> RulesVersion:
        """``balto regras definir``: the chain's next rules version, by ``cli``."""
        try:
            row = self.db.execute("SELECT id FROM clientes WHERE codigo = ?", [codigo]).fetchone()
        except sqlite3.Error as exc:
            raise StorageError(f"Falha ao consultar o cliente: {exc}") from exc
        if row is None:
            raise BadRequest(INVALID_CODE)
        return rules.replace_rules(self.db, row[0], rules_json, rules.CLI_AUTHOR)

    def replace_rules(
        self, cliente_id: int, rules_json: str | None, autor: str, expected: int | None = None
    ) -> RulesVersion:
        return rules.replace_rules(self.db, cliente_id, rules_json, autor, expected)

    def current_rules(self, cliente_id: int) -> RulesVersion:
        return rules.current_rules(self.db, cliente_id)

    def rules_versions(self, cliente_id: int) -> list[RulesVersionSummary]:
        return rules.rules_versions(self.db, cliente_id)

    def rules_version(self, cliente_id: int, numero: int) -> RulesVersion | None:
        return rules.rules_version(self.db, cliente_id, numero)

    # -- interactions -------------------------------------------------------------------

    def create_interacao(
        self,
        balcao_id: int,
        *,
        regra: str,
        categoria: str,
        mensagem: str,
        produto: str,
        gatilho: str,
        transcricao: str | None = None,
    ) -> str:
        interacao_id = str(uuid.uuid4())
        row = {
            "id": interacao_id,
            "balcao_id": balcao_id,
            "regra": regra,
            "categoria": categoria,
            "mensagem": mensagem,
            "produto": produto,
            "gatilho": gatilho,
            "transcricao": transcricao,
            "criado_em": _now(),
        }
        try:
            with transaction(self.db.conn):
                self.db.table("interacoes").insert(row)
        except sqlite3.Error as exc:
            raise StorageError(f"Falha ao gravar a interação: {exc}") from exc
        return interacao_id

    def record_feedback(self, balcao_id: int, interacao_id: str, resultado: str) -> None:
        if resultado not in RESULTADOS:
            raise BadRequest("Resultado inválido: use venda_realizada ou venda_perdida")
        try:
            with transaction(self.db.conn):
                cursor = self.db.execute(
                    "UPDATE interacoes SET resultado = ?, feedback_em = ?"
                    " WHERE id = ? AND balcao_id = ? AND resultado IS NULL",
                    [resultado, _now(), interacao_id, balcao_id],
                )
                if cursor.rowcount == 1:
                    return
                existing = self.db.execute(
                    "SELECT resultado FROM interacoes WHERE id = ? AND balcao_id = ?",
                    [interacao_id, balcao_id],
                ).fetchone()
        except sqlite3.Error as exc:
            raise StorageError(f"Falha ao gravar o feedback: {exc}") from exc
        if existing is None:
            raise BadRequest(f"Interação desconhecida: {interacao_id}")
        raise Conflict(f"Feedback já registrado para a interação {interacao_id}")

    def delete_interactions_before(self, before_utc: str, limit: int) -> int:
        """Delete up to ``limit`` interactions (with their feedback, in the same row) created
        before ``before_utc`` (ISO 8601 UTC, compared as text); return how many. Rows are
        taken in insertion order, which is creation order: the oldest go first."""
        try:
            with transaction(self.db.conn):
                cursor = self.db.execute(
                    "DELETE FROM interacoes WHERE rowid IN (SELECT rowid FROM interacoes"
                    " WHERE criado_em < ? ORDER BY rowid LIMIT ?)",
                    [before_utc, limit],
                )
        except sqlite3.Error as exc:
            raise StorageError(f"Falha ao apagar interações antigas: {exc}") from exc
        return cursor.rowcount

    def interacao(self, interacao_id: str) -> dict[str, object] | None:
        rows = list(self.db.table("interacoes").rows_where("id = ?", [interacao_id], limit=1))
        return rows[0] if rows else None

    # -- management (a chain's own data only) -------------------------------------------

    def cliente_for_chave_admin(self, chave_admin: str) -> Cliente | None:
        """The chain whose management key this is, or None."""
        digest = hash_chave_admin(chave_admin)
        try:
            row = self.db.execute(
                "SELECT id, codigo, razao_social, chave_admin_hash FROM clientes"
                " WHERE chave_admin_hash = ?",
                [digest],
            ).fetchone()
        except sqlite3.Error as exc:
            raise StorageError(f"Falha ao consultar a chave de administração: {exc}") from exc
        if row is None or not same_secret(row[3], digest):
            return None
        return Cliente(id=row[0], codigo=row[1], razao_social=row[2])

    def issue_chave_admin(self, *, cliente_id: int | None = None, codigo: str | None = None) -> str:
        """Issue the chain a new management key, by id (rotation through the API) or by codigo
        (the operator's ``balto chave-admin``, for chains registered before keys existed and
        for a key that leaked): the old key stops working at once. The key is returned this
        once; only its hash is kept. The chain's panel sessions end with the old key."""
        if (cliente_id is None) == (codigo is None):
            raise ValueError("exactly one of cliente_id and codigo")
        chave = new_chave_admin()
        where, value = ("id = ?", cliente_id) if codigo is None else ("codigo = ?", codigo)
        try:
            with transaction(self.db.conn):
                cursor = self.db.execute(
                    "UPDATE clientes SET chave_admin_hash = ? WHERE " + where,
                    [hash_chave_admin(chave), value],
                )
                self.db.execute(
                    "DELETE FROM sessoes WHERE cliente_id IN (SELECT id FROM clientes WHERE "
                    + where
                    + ")",
                    [value],
                )
        except sqlite3.Error as exc:
            raise StorageError(f"Falha ao gravar a chave de administração: {exc}") from exc
        if cursor.rowcount == 0:
            raise BadRequest(INVALID_CODE)
        return chave

    # -- the panel's sessions (store.sessions) --------------------------------------------

    def login(self, email: str, chave_admin: str, ttl_s: float) -> NewSession | None:
        """A new session when e-mail and key are the same chain's, else None."""
        cliente_id = sessions.login_chain(self.db, email, chave_admin)
        return None if cliente_id is None else sessions.create(self.db, cliente_id, ttl_s)

    def session(self, sessao: str) -> tuple[Cliente, str] | None:
        """The chain of a live session and when the session expires, or None."""
        found = sessions.find(self.db, sessao)
        if found is None:
            return None
        cliente = Cliente(id=found.cliente_id, codigo=found.codigo, razao_social=found.razao_social)
        return cliente, found.expira_em

    def end_session(self, sessao: str) -> None:
        sessions.end(self.db, sessao)

    def balcoes_of(self, cliente_id: int) -> list[CounterRecord]:
        try:
            rows = self.db.execute(
                "SELECT id, nome_balcao, criado_em, visto_em, revogado_em FROM balcoes"
                " WHERE cliente_id = ? ORDER BY id",
                [cliente_id],
            ).fetchall()
        except sqlite3.Error as exc:
            raise StorageError(f"Falha ao consultar os balcões: {exc}") from exc
        return [CounterRecord(*row) for row in rows]

    def revoke_balcao(self, cliente_id: int, balcao_id: int) -> CounterRecord | None:
        """Revoke the counter's api_key (idempotent: the first revocation's time stays).
        None when the chain has no such counter, whether or not another chain has."""
        try:
            with transaction(self.db.conn):
                self.db.execute(
                    "UPDATE balcoes SET revogado_em = ?"
                    " WHERE id = ? AND cliente_id = ? AND revogado_em IS NULL",
                    [_now(), balcao_id, cliente_id],
                )
                row = self.db.execute(
                    "SELECT id, nome_balcao, criado_em, visto_em, revogado_em FROM balcoes"
                    " WHERE id = ? AND cliente_id = ?",
                    [balcao_id, cliente_id],
                ).fetchone()
        except sqlite3.Error as exc:
            raise StorageError(f"Falha ao revogar o balcão: {exc}") from exc
        return None if row is None else CounterRecord(*row)

    def touch_balcao(self, balcao_id: int) -> bool:
        """Record that the counter was seen now (a successful auth, the end of a session);
        False when the counter no longer exists (its chain deleted its data)."""
        try:
            with transaction(self.db.conn):
                cursor = self.db.execute(
                    "UPDATE balcoes SET visto_em = ? WHERE id = ?", [_now(), balcao_id]
                )
        except sqlite3.Error as exc:
            raise StorageError(f"Falha ao registrar o balcão como visto: {exc}") from exc
        return cursor.rowcount > 0

    def export_chain(self, cliente_id: int) -> dict[str, object]:
        return chain_data.export_chain(self.db, cliente_id)

    def delete_chain(self, cliente_id: int) -> DeletedChain:
        return chain_data.delete_chain(self.db, cliente_id)

    def report_rows(self, cliente_id: int, start_utc: str, end_utc: str) -> list[ReportRow]:
        """The chain's interactions created in [start_utc, end_utc) (ISO 8601 UTC strings,
        compared as text: every stored time has the same shape)."""
        try:
            rows = self.db.execute(
                "SELECT b.id, b.nome_balcao, i.regra, i.produto, i.criado_em, i.resultado"
                " FROM balcoes b JOIN interacoes i ON i.balcao_id = b.id"
                " WHERE b.cliente_id = ? AND i.criado_em >= ? AND i.criado_em < ?",
                [cliente_id, start_utc, end_utc],
            ).fetchall()
        except sqlite3.Error as exc:
            raise StorageError(f"Falha ao consultar as interações: {exc}") from exc
        return [tuple(row) for row in rows]
