"""The Trio shell of the rules API: ``/api/regras`` (read, replace, back to the default), its
history and the dry run.

Every call is scoped to the chain the bearer key names. A replacement is validated exactly as
``balto regras definir`` validates a file (``detect.load_rules``), written to the same store
as a new version, and then published to the rules cache, where the chain's live sessions find
it before their next decode.
"""

from __future__ import annotations

from functools import partial

import trio

from balto.core.errors import NotFound
from balto.core.http.messages import Request, Response, json_response
from balto.core.http.router import Router
from balto.counter.admin import rules as wire
from balto.counter.admin.api import NO_STORE, ChainKeys
from balto.counter.coord.messages import RulesChanged
from balto.counter.detect import RuleSet, find_opportunities, load_rules
from balto.counter.store import RulesVersion
from balto.counter.ws.session import CounterServices


class RulesApi:
    def __init__(self, services: CounterServices, keys: ChainKeys) -> None:
        self.services = services
        self.keys = keys

    def install(self, router: Router) -> None:
        router.add("GET", "/api/regras", self.current)
        router.add("PUT", "/api/regras", self.replace)
        router.add("DELETE", "/api/regras", self.restore_default)
        router.add("GET", "/api/regras/versoes", self.versions)
        router.add("GET", "/api/regras/versoes/{numero}", self.version)
        router.add("POST", "/api/regras/testar", self.dry_run)

    async def current(self, request: Request) -> Response:
        cliente = await self.keys.chain_of(request)
        store = self.services.store
        version = await store.run(store.database.current_rules, cliente.id)
        return self._answer(version)

    async def replace(self, request: Request) -> Response:
        cliente = await self.keys.chain_of(request)
        expected = wire.expected_revision(request.header("if-match"))
        request.json_object()  # Content-Type, size and the JSON limits, as every body
        # Then the CLI's own reading of the file (also refusing repeated keys); compiling a
        # large set takes a while: off the event loop.
        rules = await trio.to_thread.run_sync(
            load_rules, request.body, limiter=self.services.admin_threads
        )
        return await self._write(cliente.id, rules, expected)

    async def restore_default(self, request: Request) -> Response:
        cliente = await self.keys.chain_of(request)
        expected = wire.expected_revision(request.header("if-match"))
        return await self._write(cliente.id, None, expected)

    async def versions(self, request: Request) -> Response:
        cliente = await self.keys.chain_of(request)
        store = self.services.store
        summaries = await store.run(store.database.rules_versions, cliente.id)
        return json_response(
            200, {"versoes": [wire.summary_wire(s) for s in summaries]}, headers=NO_STORE
        )

    async def version(self, request: Request) -> Response:
        cliente = await self.keys.chain_of(request)
        numero = wire.version_number(request.params["numero"])
        store = self.services.store
        found = await store.run(store.database.rules_version, cliente.id, numero)
        if found is None:
            raise NotFound(wire.VERSION_NOT_FOUND)
        return json_response(200, wire.current_wire(found), headers=NO_STORE)

    async def dry_run(self, request: Request) -> Response:
        """What a sentence would fire, with the rules sent or the chain's current ones;
        nothing is saved and no cooldown applies."""
        cliente = await self.keys.chain_of(request)
        body = request.json_object()
        parsed = await trio.to_thread.run_sync(
            wire.parse_dry_run, body, limiter=self.services.admin_threads
        )
        revision: int | None = None
        rules = parsed.regras
        if rules is None:
            store = self.services.store
            version = await store.run(store.database.current_rules, cliente.id)
            chain_rules = self.services.rules.for_chain(cliente.id, version.numero, version.regras)
            revision, rules = chain_rules.revision, chain_rules.rules
        found = await trio.to_thread.run_sync(
            find_opportunities, rules, parsed.texto, limiter=self.services.admin_threads
        )
        return json_response(200, wire.dry_run_wire(revision, found), headers=NO_STORE)

    async def _write(
        self, cliente_id: int, rules: RuleSet | None, expected: int | None
    ) -> Response:
        store = self.services.store
        version = await store.run(
            partial(
                store.database.replace_rules,
                cliente_id,
                None if rules is None else rules.to_json(),
                wire.API_AUTHOR,
                expected,
            )
        )
        # After the commit: from their next decode on, the chain's live sessions use them.
        self.services.rules.publish(cliente_id, version.numero, rules)
        await self._announce(RulesChanged(cliente_id, version.numero))
        return self._answer(version)

    async def _announce(self, message: RulesChanged) -> None:
        """With Redis: the other instances' live sessions follow too. The version is written
        either way: a failure is logged and counted (the answer stays 200); the others catch
        up when their subscription comes back (they read every chain's rules again then) or
        at their counters' next auth."""
        if self.services.coord is not None:
            await self.services.coord.announce_or_log(
                message, f"rules of chain {message.cliente_id} changed"
            )

    def _answer(self, version: RulesVersion) -> Response:
        headers = (*NO_STORE, ("ETag", wire.etag(version.numero)))
        return json_response(200, wire.current_wire(version), headers=headers)
