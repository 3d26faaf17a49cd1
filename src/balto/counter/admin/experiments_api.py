"""The Trio shell of the wording experiments' report: ``GET /api/experimentos``.

Scoped to the chain the bearer key (or the panel's session) names: its interactions in the
date range, next to its current rule set (the cache the live sessions use)."""

from __future__ import annotations

from datetime import datetime
from functools import partial
from zoneinfo import ZoneInfo

import trio

from balto.core.http.messages import Request, Response
from balto.core.http.router import Router
from balto.counter.admin.api import ChainKeys, report_answer
from balto.counter.admin.experiments import build_experiments, parse_query
from balto.counter.ws.session import CounterServices


class ExperimentsApi:
    def __init__(self, services: CounterServices, keys: ChainKeys) -> None:
        self.services = services
        self.keys = keys
        self.zone_name = services.config.report_timezone
        self.zone = ZoneInfo(self.zone_name)

    def install(self, router: Router) -> None:
        router.add("GET", "/api/experimentos", self.experimentos)

    async def experimentos(self, request: Request) -> Response:
        cliente = await self.keys.chain_of(request)
        query = parse_query(request.query, datetime.now(self.zone).date())
        start, end = query.utc_bounds(self.zone)
        store = self.services.store
        rows = await store.run(store.database.experiment_rows, cliente.id, start, end)
        version = await store.run(store.database.current_rules, cliente.id)
        rules = self.services.rules.for_chain(cliente.id, version.numero, version.regras).rules
        report = await trio.to_thread.run_sync(
            partial(build_experiments, rows, rules, query, self.zone_name),
            limiter=self.services.admin_threads,
        )
        return report_answer(report, query.format)
