"""The Trio shell of the management API: check the chain's key, ask the store, answer.

Every handler starts from the chain the bearer key (or the panel's session cookie) names, and
every query is scoped to that chain's id: another chain's counter is "not found", exactly like
one that does not exist.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime
from functools import partial
from typing import Any, Protocol
from zoneinfo import ZoneInfo

import trio

from balto.core.errors import NotFound, ServiceUnavailable, TooManyRequests, Unauthorized
from balto.core.http.messages import Request, Response, json_response
from balto.core.http.router import Router
from balto.core.limits import TokenBuckets, network_of
from balto.core.redis.client import RedisError
from balto.counter.admin import sessions
from balto.counter.admin.auth import COUNTER_NOT_FOUND, INVALID_KEY, bearer_key, counter_id
from balto.counter.admin.report import build_report, parse_query
from balto.counter.coord.messages import CounterKeyRotated, CounterRevoked
from balto.counter.store import Cliente, CounterRecord
from balto.counter.store.sessions import NewSession
from balto.counter.ws.session import CounterServices

NO_STORE = (("Cache-Control", "no-store"),)  # a chain's data: no cache keeps a copy


class Report(Protocol):
    def wire(self) -> dict[str, Any]: ...
    def csv_text(self) -> str: ...
    def csv_filename(self) -> str: ...


def report_answer(report: Report, output_format: str) -> Response:
    """A report as JSON, or with ``formato=csv`` as a CSV download."""
    if output_format == "csv":
        disposition = f'attachment; filename="{report.csv_filename()}"'
        return Response(
            200,
            report.csv_text().encode("utf-8"),
            content_type="text/csv; charset=utf-8",
            headers=(*NO_STORE, ("Content-Disposition", disposition)),
        )
    return json_response(200, report.wire(), headers=NO_STORE)


REVOKED_NOT_ANNOUNCED = (
    "Balcão revogado, mas as outras instâncias não foram avisadas (Redis inacessível): "
    "repita a revogação"
)
ROTATED_NOT_ANNOUNCED = (
    "Chave trocada, mas as outras instâncias não foram avisadas (Redis inacessível): uma conexão"
    " aberta com a chave antiga em outra instância pode continuar até cair"
)


@dataclasses.dataclass(frozen=True, slots=True)
class Caller:
    """Who a management call is: the chain, and the panel session when the cookie (not the
    bearer key) authenticated it."""

    cliente: Cliente
    sessao: str | None = None
    expira_em: str | None = None


class ChainKeys:
    """Who a management call is: the chain whose ``chave_admin`` it bears, or whose panel
    session its cookie names (then a state-changing call must pass the CSRF checks: 403);
    else 401. The bearer key wins when a request carries both.

    Keys and session ids are 256 random bits, so guessing is hopeless; but every wrong one
    costs the single store thread a lookup that counters' auth and feedback wait behind. So
    wrong keys, forged or expired cookies and failed logins are counted per client network
    (``CHAVE_ADMIN_FAILURES_BURST``, then one per ``CHAVE_ADMIN_FAILURE_REFILL_S``), and past
    that the network gets 429 before any lookup. With ``REDIS_URL`` the count is shared by
    every instance (``services.limits``).
    """

    def __init__(self, services: CounterServices) -> None:
        self.services = services
        config = services.config
        self.failures = TokenBuckets(
            "chave_admin",
            burst=config.chave_admin_failures_burst,
            refill_s=config.chave_admin_failure_refill_s,
        )

    async def chain_of(self, request: Request) -> Cliente:
        return (await self.caller(request)).cliente

    async def caller(self, request: Request) -> Caller:
        network = await self._admit(request)
        try:
            authorization = request.header("authorization")
            sessao = sessions.session_cookie(request)
            if authorization is None and sessao is not None:
                caller = await self._session(sessao)
            else:
                caller = Caller(await self._bearer(authorization))
        except Unauthorized:
            await self.services.limits.spend(self.failures, network)
            raise
        if caller.sessao is not None:
            sessions.check_state_change(request, caller.sessao)
        return caller

    async def login(self, request: Request, email: str, chave_admin: str) -> NewSession:
        """A new panel session for the chain of this e-mail and key; else 401, counted."""
        network = await self._admit(request)
        store = self.services.store
        ttl_s = self.services.config.sessao_ttl_s
        new = await store.run(store.database.login, email, chave_admin, ttl_s)
        if new is None:
            await self.services.limits.spend(self.failures, network)
            raise Unauthorized(sessions.WRONG_LOGIN)
        return new

    async def _admit(self, request: Request) -> str:
        """The client's network, unless it spent its wrong tries: then 429."""
        network = f"addr:{network_of(request.client)}"
        wait_s = await self.services.limits.retry_after_s(self.failures, network)
        if wait_s:
            self.services.metrics.rate_limited.labels(self.failures.name).inc()
            raise TooManyRequests(
                f"Muitas chaves erradas; tente de novo em {wait_s} s", retry_after_s=wait_s
            )
        return network

    async def _bearer(self, authorization: str | None) -> Cliente:
        key = bearer_key(authorization)
        store = self.services.store
        cliente = await store.run(store.database.cliente_for_chave_admin, key)
        if cliente is None:
            raise Unauthorized(INVALID_KEY)
        return cliente

    async def _session(self, sessao: str) -> Caller:
        if not sessions.well_formed(sessao):
            raise Unauthorized(sessions.INVALID_SESSION)
        store = self.services.store
        found = await store.run(store.database.session, sessao)
        if found is None:
            raise Unauthorized(sessions.INVALID_SESSION)
        cliente, expira_em = found
        return Caller(cliente, sessao, expira_em)


class AdminApi:
    def __init__(self, services: CounterServices, keys: ChainKeys) -> None:
        self.services = services
        self.keys = keys
        self.zone_name = services.config.report_timezone
        self.zone = ZoneInfo(self.zone_name)

    def install(self, router: Router) -> None:
        router.add("GET", "/api/balcoes", self.balcoes)
        router.add("POST", "/api/balcoes/{id}/revogar", self.revogar)
        router.add("POST", "/api/balcoes/{id}/trocar-chave", self.trocar_chave)
        router.add("GET", "/api/relatorios", self.relatorios)
        router.add("POST", "/api/chave/rotacionar", self.rotacionar_chave)

    async def balcoes(self, request: Request) -> Response:
        cliente = await self._cliente(request)
        store = self.services.store
        records = await store.run(store.database.balcoes_of, cliente.id)
        return json_response(
            200, {"balcoes": [self._counter(record) for record in records]}, headers=NO_STORE
        )

    async def revogar(self, request: Request) -> Response:
        cliente = await self._cliente(request)
        wanted = counter_id(request.params["id"])
        store = self.services.store
        record = await store.run(store.database.revoke_balcao, cliente.id, wanted)
        if record is None:
            raise NotFound(COUNTER_NOT_FOUND)
        # After the write: a session whose key was checked before it is caught by the mark
        # the registry keeps (see ws.live), so no revoked counter keeps streaming.
        closed = self.services.live.revoke(record.id)
        await self._announce_revocation(record.id)
        # The sockets are closing now: the answer says so, not the moment before.
        answer = self._counter(record) | {
            "online": False,
            "sessoes_abertas": 0,
            "sessoes_encerradas": closed,
        }
        return json_response(200, answer, headers=NO_STORE)

    async def _announce_revocation(self, balcao_id: int) -> None:
        """With Redis: the instance holding the counter's socket closes it too. If Redis cannot
        be reached the call fails (503) after the revocation is written: repeating it (it is
        idempotent) announces it again."""
        coord = self.services.coord
        if coord is None:
            return
        try:
            await coord.announce(CounterRevoked(balcao_id))
        except RedisError as exc:
            raise ServiceUnavailable(REVOKED_NOT_ANNOUNCED) from exc

    async def trocar_chave(self, request: Request) -> Response:
        """A new api_key for the counter, shown this once; the old one stops authenticating and
        its open sessions close (1008), here and on the other instances. Same id, name and
        history. A revoked counter stays revoked (409)."""
        cliente = await self._cliente(request)
        wanted = counter_id(request.params["id"])
        store = self.services.store
        rotated = await store.run(store.database.rotate_api_key, cliente.id, wanted)
        if rotated is None:
            raise NotFound(COUNTER_NOT_FOUND)
        record = rotated.record
        # After the write, as for a revocation: a session whose old key was checked before it
        # registers retired (see ws.live).
        closed = self.services.live.retire_key(record.id, rotated.chave_antiga_hash)
        answer = self._counter(record) | {
            "api_key": rotated.api_key,
            "link": f"/balcao#chave={rotated.api_key}",
            "sessoes_encerradas": closed,
        }
        # The old key's sockets are closing now: whatever is still counted is the new key's.
        answer["sessoes_abertas"] = self.services.live.count(record.id) - closed
        answer["online"] = answer["sessoes_abertas"] > 0
        coord = self.services.coord
        if coord is not None:
            try:
                await coord.announce(CounterKeyRotated(record.id, rotated.chave_antiga_hash))
            except RedisError:
                # The new key is written and shown only here: the answer must not be lost.
                answer["aviso"] = ROTATED_NOT_ANNOUNCED
        return json_response(200, answer, headers=NO_STORE)

    async def rotacionar_chave(self, request: Request) -> Response:
        """A new chave_admin for the chain, shown this once; the one used here stops working,
        and so do the chain's panel sessions (the cookie of this call, if any, is removed)."""
        caller = await self.keys.caller(request)
        store = self.services.store
        chave = await store.run(
            partial(store.database.issue_chave_admin, cliente_id=caller.cliente.id)
        )
        headers: tuple[tuple[str, str], ...] = NO_STORE
        if caller.sessao is not None:
            secure = request.scheme == "https"
            headers = (*NO_STORE, ("Set-Cookie", sessions.clear_cookie(secure=secure)))
        return json_response(200, {"chave_admin": chave}, headers=headers)

    async def relatorios(self, request: Request) -> Response:
        cliente = await self._cliente(request)
        query = parse_query(request.query, datetime.now(self.zone).date())
        start, end = query.utc_bounds(self.zone)
        store = self.services.store
        rows = await store.run(store.database.report_rows, cliente.id, start, end)
        # Counting may take a while on a long range: off the event loop, off the store thread.
        report = await trio.to_thread.run_sync(
            partial(build_report, rows, query, self.zone, self.zone_name),
            limiter=self.services.admin_threads,
        )
        return report_answer(report, query.format)

    async def _cliente(self, request: Request) -> Cliente:
        return await self.keys.chain_of(request)

    def _counter(self, record: CounterRecord) -> dict[str, Any]:
        sessions = self.services.live.count(record.id)
        return {
            "id": record.id,
            "nome_balcao": record.nome_balcao,
            "criado_em": record.criado_em,
            "visto_em": record.visto_em,
            "online": sessions > 0,
            "sessoes_abertas": sessions,
            "revogado_em": record.revogado_em,
        }
