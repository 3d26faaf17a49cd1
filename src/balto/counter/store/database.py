"""The blocking database layer, the same on both backends (``backend``): one SQLite file, or
PostgreSQL when ``DATABASE_URL`` names one. ``Store`` runs every method in its worker threads.

Each method takes a connection for its length (``_connect``), which also turns the driver's
errors into ``StorageError`` with what the method was doing. Durability: see ``backend``.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from balto.core.errors import BadRequest, Conflict
from balto.counter.cadastro.secrets import (
    hash_api_key,
    hash_chave_admin,
    new_api_key,
    new_chave_admin,
    new_codigo,
    same_secret,
)
from balto.counter.cadastro.validate import INVALID_CODE, NewBalcao, NewCliente
from balto.counter.config import CounterConfig
from balto.counter.store import chain_data, experiments, management, rules, sessions
from balto.counter.store.backend import Backend, Conn, IntegrityFault, failures, open_backend
from balto.counter.store.chain_data import DeletedChain
from balto.counter.store.records import (
    Balcao,
    Cliente,
    CounterRecord,
    ExperimentRow,
    NewClienteKeys,
    ReportRow,
    RotatedKey,
)
from balto.counter.store.rules import RulesVersion, RulesVersionSummary
from balto.counter.store.schema import migrate
from balto.counter.store.sessions import NewSession

__all__ = [
    "Balcao",
    "Cliente",
    "CounterRecord",
    "Database",
    "NewClienteKeys",
    "ReportRow",
    "open_database",
]

DUPLICATE = "Email ou código já existe..."
RESULTADOS = ("venda_realizada", "venda_perdida")


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


class Database:
    def __init__(self, target: Path | str, *, pool_size: int = 4, timeout_s: float = 5.0) -> None:
        """``target``: a SQLite file, or a ``postgresql://`` URL (``pool_size`` connections,
        waiting at most ``timeout_s`` for one)."""
        self.backend: Backend = open_backend(target, pool_size=pool_size, timeout_s=timeout_s)
        try:
            self.schema_version = migrate(self.backend)
        except BaseException:
            self.backend.close()
            raise

    @property
    def capacity(self) -> int:
        """How many calls may run at once (``Store``'s limiter)."""
        return self.backend.capacity

    def describe(self) -> str:
        return self.backend.describe()

    def close(self) -> None:
        self.backend.close()

    @contextmanager
    def _connect(self, what: str) -> Iterator[Conn]:
        with failures(what), self.backend.connection() as conn:
            yield conn

    def ping(self) -> None:
        """Raise ``StorageError`` unless the database answers (``/health``)."""
        with self._connect("consultar o banco de dados") as conn:
            conn.execute("SELECT 1").fetchone()

    def query(self, sql: str, params: Sequence[object] = ()) -> list[tuple[Any, ...]]:
        """Any read, for the operator's tools and the tests (``?`` placeholders)."""
        with self._connect("consultar o banco de dados") as conn:
            return [tuple(row) for row in conn.execute(sql, params).fetchall()]

    def execute(self, sql: str, params: Sequence[object] = ()) -> int:
        """Any write in its own transaction, for the tests; the rows it changed."""
        with self._connect("gravar no banco de dados") as conn, conn.transaction():
            return conn.execute(sql, params).rowcount

    # -- registration -------------------------------------------------------------------

    def create_cliente(self, new: NewCliente) -> NewClienteKeys:
        chave_admin = new_chave_admin()
        row = dict(dataclasses.asdict(new), chave_admin_hash=hash_chave_admin(chave_admin))
        columns = ", ".join(["codigo", "criado_em", *row])
        marks = ", ".join("?" * (len(row) + 2))
        for _ in range(20):
            codigo = new_codigo()
            try:
                with self._connect("gravar o cliente") as conn, conn.transaction():
                    conn.execute(
                        f"INSERT INTO clientes ({columns}) VALUES ({marks})",
                        [codigo, _now(), *row.values()],
                    )
                return NewClienteKeys(codigo=codigo, chave_admin=chave_admin)
            except IntegrityFault as exc:
                if "email" in exc.constraint:
                    raise Conflict(DUPLICATE) from exc
                # a codigo collision: draw again
        raise Conflict(DUPLICATE)

    def create_balcao(self, new: NewBalcao) -> str:
        with self._connect("gravar o balcão") as conn:
            found = conn.execute(
                "SELECT id, codigo FROM clientes WHERE codigo = ?", [new.user_codigo]
            ).fetchone()
            if found is None or not same_secret(found[1], new.user_codigo):
                raise BadRequest(INVALID_CODE)
            api_key = new_api_key()
            with conn.transaction():
                conn.execute(
                    "INSERT INTO balcoes (cliente_id, nome_balcao, api_key_hash, criado_em)"
                    " VALUES (?, ?, ?, ?)",
                    [found[0], new.nome_balcao, hash_api_key(api_key), _now()],
                )
            return api_key

    def authenticate(self, api_key: str) -> Balcao | None:
        digest = hash_api_key(api_key)
        with self._connect("consultar o balcão") as conn:
            row = conn.execute(
                "SELECT b.id, b.nome_balcao, b.api_key_hash, c.id, c.codigo, c.idioma, c.regras,"
                " (SELECT COALESCE(MAX(v.numero), 0) FROM regras_versoes v"
                " WHERE v.cliente_id = c.id)"
                " FROM balcoes b JOIN clientes c ON c.id = b.cliente_id"
                " WHERE b.api_key_hash = ? AND b.revogado_em IS NULL",
                [digest],
            ).fetchone()
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
            chave_hash=row[2],
        )

    # -- rules (the CLI by codigo, the management API by the chain's id) -----------------

    def set_rules(self, codigo: str, rules_json: str | None) -> RulesVersion:
        """``balto regras definir``: the chain's next rules version, by ``cli``."""
        with self._connect("gravar as regras") as conn:
            row = conn.execute("SELECT id FROM clientes WHERE codigo = ?", [codigo]).fetchone()
            if row is None:
                raise BadRequest(INVALID_CODE)
            return rules.replace_rules(conn, row[0], rules_json, rules.CLI_AUTHOR)

    def replace_rules(
        self, cliente_id: int, rules_json: str | None, autor: str, expected: int | None = None
    ) -> RulesVersion:
        with self._connect("gravar as regras") as conn:
            return rules.replace_rules(conn, cliente_id, rules_json, autor, expected)

    def current_rules(self, cliente_id: int) -> RulesVersion:
        with self._connect("consultar as regras") as conn:
            return rules.current_rules(conn, cliente_id)

    def rules_versions(self, cliente_id: int) -> list[RulesVersionSummary]:
        with self._connect("consultar as versões das regras") as conn:
            return rules.rules_versions(conn, cliente_id)

    def rules_version(self, cliente_id: int, numero: int) -> RulesVersion | None:
        with self._connect("consultar a versão das regras") as conn:
            return rules.rules_version(conn, cliente_id, numero)

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
        variante: str | None = None,
    ) -> str:
        """Record a recommendation; ``variante`` is the wording drawn (None: no experiment)."""
        interacao_id = str(uuid.uuid4())
        with self._connect("gravar a interação") as conn, conn.transaction():
            conn.execute(
                "INSERT INTO interacoes (id, balcao_id, regra, categoria, mensagem, produto,"
                " gatilho, transcricao, criado_em, variante)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    *(interacao_id, balcao_id, regra, categoria, mensagem, produto, gatilho),
                    *(transcricao, _now(), variante),
                ],
            )
        return interacao_id

    def experiment_rows(self, cliente_id: int, start_utc: str, end_utc: str) -> list[ExperimentRow]:
        """The chain's interactions that drew a wording variant in [start_utc, end_utc)."""
        with self._connect("consultar os experimentos") as conn:
            return experiments.experiment_rows(conn, cliente_id, start_utc, end_utc)

    def record_feedback(self, balcao_id: int, interacao_id: str, resultado: str) -> None:
        if resultado not in RESULTADOS:
            raise BadRequest("Resultado inválido: use venda_realizada ou venda_perdida")
        with self._connect("gravar o feedback") as conn, conn.transaction():
            cursor = conn.execute(
                "UPDATE interacoes SET resultado = ?, feedback_em = ?"
                " WHERE id = ? AND balcao_id = ? AND resultado IS NULL",
                [resultado, _now(), interacao_id, balcao_id],
            )
            if cursor.rowcount == 1:
                return
            existing = conn.execute(
                "SELECT resultado FROM interacoes WHERE id = ? AND balcao_id = ?",
                [interacao_id, balcao_id],
            ).fetchone()
        if existing is None:
            raise BadRequest(f"Interação desconhecida: {interacao_id}")
        raise Conflict(f"Feedback já registrado para a interação {interacao_id}")

    def delete_interactions_before(self, before_utc: str, limit: int) -> int:
        """Delete up to ``limit`` interactions (with their feedback, in the same row) created
        before ``before_utc`` (ISO 8601 UTC, compared as text); return how many. The oldest go
        first (SQLite: insertion order; PostgreSQL: creation time)."""
        with self._connect("apagar interações antigas") as conn, conn.transaction():
            key, order = conn.dialect.interacao_key, conn.dialect.interacao_order
            return conn.execute(
                f"DELETE FROM interacoes WHERE {key} IN (SELECT {key} FROM interacoes"
                f" WHERE criado_em < ? ORDER BY {order} LIMIT ?)",
                [before_utc, limit],
            ).rowcount

    def interacao(self, interacao_id: str) -> dict[str, object] | None:
        with self._connect("consultar a interação") as conn:
            rows = conn.rows("SELECT * FROM interacoes WHERE id = ?", [interacao_id])
        return rows[0] if rows else None

    # -- management (a chain's own data only; store.management) -------------------------

    def cliente_for_chave_admin(self, chave_admin: str) -> Cliente | None:
        """The chain whose management key this is, or None."""
        with self._connect("consultar a chave de administração") as conn:
            return management.cliente_for_chave_admin(conn, chave_admin)

    def issue_chave_admin(self, *, cliente_id: int | None = None, codigo: str | None = None) -> str:
        """Issue the chain a new management key, by id (rotation through the API) or by codigo
        (the operator's ``balto chave-admin``, for chains registered before keys existed and
        for a key that leaked): the old key stops working at once. The key is returned this
        once; only its hash is kept. The chain's panel sessions end with the old key."""
        if (cliente_id is None) == (codigo is None):
            raise ValueError("exactly one of cliente_id and codigo")
        with self._connect("gravar a chave de administração") as conn:
            return management.issue_chave_admin(conn, cliente_id, codigo)

    # -- the panel's sessions (store.sessions) --------------------------------------------

    def login(self, email: str, chave_admin: str, ttl_s: float) -> NewSession | None:
        """A new session when e-mail and key are the same chain's, else None."""
        with self._connect("gravar a sessão") as conn:
            cliente_id = sessions.login_chain(conn, email, chave_admin)
            return None if cliente_id is None else sessions.create(conn, cliente_id, ttl_s)

    def session(self, sessao: str) -> tuple[Cliente, str] | None:
        """The chain of a live session and when the session expires, or None."""
        with self._connect("consultar a sessão") as conn:
            found = sessions.find(conn, sessao)
        if found is None:
            return None
        cliente = Cliente(id=found.cliente_id, codigo=found.codigo, razao_social=found.razao_social)
        return cliente, found.expira_em

    def end_session(self, sessao: str) -> None:
        with self._connect("encerrar a sessão") as conn:
            sessions.end(conn, sessao)

    def balcoes_of(self, cliente_id: int) -> list[CounterRecord]:
        with self._connect("consultar os balcões") as conn:
            return management.balcoes_of(conn, cliente_id)

    def revoke_balcao(self, cliente_id: int, balcao_id: int) -> CounterRecord | None:
        """Revoke the counter's api_key (idempotent: the first revocation's time stays).
        None when the chain has no such counter, whether or not another chain has."""
        with self._connect("revogar o balcão") as conn:
            return management.revoke_balcao(conn, cliente_id, balcao_id)

    def rotate_api_key(self, cliente_id: int, balcao_id: int) -> RotatedKey | None:
        """Replace the counter's api_key with a new one (returned once; only its hash is
        kept): the old key stops authenticating at once; id, name and history stay. None when
        the chain has no such counter; ``Conflict`` when it is revoked (for good)."""
        with self._connect("trocar a chave do balcão") as conn:
            return management.rotate_api_key(conn, cliente_id, balcao_id)

    def key_hashes_of(self, cliente_id: int) -> dict[int, str]:
        """The chain's live (not revoked) counters and their current key's hash."""
        with self._connect("consultar os balcões") as conn:
            return management.key_hashes_of(conn, cliente_id)

    def touch_balcao(self, balcao_id: int) -> bool:
        """Record that the counter was seen now (a successful auth, the end of a session);
        False when the counter no longer exists (its chain deleted its data)."""
        with self._connect("registrar o balcão como visto") as conn:
            return management.touch_balcao(conn, balcao_id)

    def export_chain(self, cliente_id: int) -> dict[str, object]:
        with self._connect("exportar os dados da rede") as conn:
            return chain_data.export_chain(conn, cliente_id)

    def delete_chain(self, cliente_id: int) -> DeletedChain:
        with self._connect("apagar os dados da rede") as conn:
            return chain_data.delete_chain(conn, cliente_id)

    def report_rows(self, cliente_id: int, start_utc: str, end_utc: str) -> list[ReportRow]:
        """The chain's interactions created in [start_utc, end_utc) (ISO 8601 UTC strings,
        compared as text: every stored time has the same shape)."""
        with self._connect("consultar as interações") as conn:
            return management.report_rows(conn, cliente_id, start_utc, end_utc)


def open_database(config: CounterConfig) -> Database:
    """The configured database: PostgreSQL with ``DATABASE_URL``, else the ``DB_FILE``."""
    return Database(
        config.database_target,
        pool_size=config.database_pool_size,
        timeout_s=config.database_timeout_s,
    )
