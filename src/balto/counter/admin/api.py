"""The Trio shell of the management API: check the chain's key, ask the store, answer.

Every handler starts from the chain the bearer key names, and every query is scoped to that
chain's id: another chain's counter is "not found", exactly like one that does not exist.
"""

from __future__ import annotations

from datetime import datetime
from functools import partial
from typing import Any
from zoneinfo import ZoneInfo

import trio

from balto.core.errors import NotFound, TooManyRequests, Unauthorized
from balto.core.http.messages import Request, Response, json_response
from balto.core.http.router import Router
from balto.core.limits import TokenBuckets, network_of
from balto.counter.admin.auth import COUNTER_NOT_FOUND, INVALID_KEY, bearer_key, counter_id
from balto.counter.admin.report import build_report, parse_query
from balto.counter.store import Cliente, CounterRecord
from balto.counter.ws.session import CounterServices

NO_STORE = (("Cache-Control", "no-store"),)  # a chain's data: no cache keeps a copy


class ChainKeys:
    """Who a management call is: the chain whose ``chave_admin`` it bears, else 401.

    Keys are 256 random bits, so guessing is hopeless; but every wrong key costs the single
    store thread a lookup that counters' auth and feedback wait behind. So wrong keys are
    counted per client network (``CHAVE_ADMIN_FAILURES_BURST``, then one per
    ``CHAVE_ADMIN_FAILURE_REFILL_S``), and past that the network gets 429 before any lookup.
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
        network = f"addr:{network_of(request.client)}"
        wait_s = self.failures.retry_after_s(network, trio.current_time())
        if wait_s:
            self.services.metrics.rate_limited.labels(self.failures.name).inc()
            raise TooManyRequests(
                f"Muitas chaves erradas; tente de novo em {wait_s} s", retry_after_s=wait_s
            )
        try:
            key = bearer_key(request.header("authorization"))
            store = self.services.store
            cliente = await store.run(store.database.cliente_for_chave_admin, key)
            if cliente is None:
                raise Unauthorized(INVALID_KEY)
        except Unauthorized:
            self.failures.spend(network, trio.current_time())
            raise
        return cliente


class AdminApi:
    def __init__(self, services: CounterServices, keys: ChainKeys) -> None:
        self.services = services
        self.keys = keys
        self.zone_name = services.config.report_timezone
        self.zone = ZoneInfo(self.zone_name)

    def install(self, router: Router) -> None:
        router.add("GET", "/api/balcoes", self.balcoes)
        router.add("POST", "/api/balcoes/{id}/revogar", self.revogar)
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
        # The sockets are closing now: the answer says so, not the moment before.
        answer = self._counter(record) | {
            "online": False,
            "sessoes_abertas": 0,
            "sessoes_encerradas": closed,
        }
        return json_response(200, answer, headers=NO_STORE)

    async def rotacionar_chave(self, request: Request) -> Response:
        """A new chave_admin for the chain, shown this once; the one used here stops working."""
        cliente = await self._cliente(request)
        store = self.services.store
        chave = await store.run(partial(store.database.issue_chave_admin, cliente_id=cliente.id))
        return json_response(200, {"chave_admin": chave}, headers=NO_STORE)

    async def relatorios(self, request: Request) -> Response:
        cliente = await self._cliente(request)
        query = parse_query(request.query, datetime.now(self.zone).date())
        start, end = query.utc_bounds(self.zone)
        store = self.services.store
        rows = await store.run(store.database.report_rows, cliente.id, start, end)
        # Counting may take a while on a long range: off the event loop, off the store thread.
        report = await trio.to_thread.run_sync(
            partial(build_report, rows, query, self.zone, self.zone_name)
        )
        if query.format == "csv":
            disposition = f'attachment; filename="{report.csv_filename()}"'
            return Response(
                200,
                report.csv_text().encode("utf-8"),
                content_type="text/csv; charset=utf-8",
                headers=(*NO_STORE, ("Content-Disposition", disposition)),
            )
        return json_response(200, report.wire(), headers=NO_STORE)

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
