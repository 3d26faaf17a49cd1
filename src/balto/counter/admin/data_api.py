"""The Trio shell of a chain's own data (LGPD): ``GET /api/dados`` exports everything the
chain has, ``DELETE /api/dados`` deletes it all, the chain included.

Both are scoped to the chain of the bearer key or panel session; the deletion, a state
change, needs the CSRF token when the cookie authenticates it (``ChainKeys``), and the body
``{"confirmar": "<codigo>"}`` always.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

from balto.core.http.messages import Request, Response, json_response
from balto.core.http.router import Router
from balto.counter.admin import data, sessions
from balto.counter.admin.api import NO_STORE, ChainKeys
from balto.counter.coord.messages import ChainDeleted
from balto.counter.ws.session import CounterServices


class DataApi:
    def __init__(self, services: CounterServices, keys: ChainKeys) -> None:
        self.services = services
        self.keys = keys

    def install(self, router: Router) -> None:
        router.add("GET", "/api/dados", self.export)
        router.add("DELETE", "/api/dados", self.delete)

    async def export(self, request: Request) -> Response:
        cliente = await self.keys.chain_of(request)
        store = self.services.store
        stored = await store.run(store.database.export_chain, cliente.id)
        now = datetime.now(UTC)
        wire = data.export_wire(stored, now.isoformat(timespec="milliseconds"))
        filename = data.export_filename(cliente.codigo, now.date().isoformat())
        return Response(
            200,
            json.dumps(wire, ensure_ascii=False, indent=1).encode("utf-8"),
            content_type="application/json; charset=utf-8",
            headers=(*NO_STORE, ("Content-Disposition", f'attachment; filename="{filename}"')),
        )

    async def delete(self, request: Request) -> Response:
        caller = await self.keys.caller(request)
        data.check_confirmation(request.json_object(), caller.cliente.codigo)
        store = self.services.store
        deleted = await store.run(store.database.delete_chain, caller.cliente.id)
        # After the commit: open counter sockets close now (1008); one whose key was checked
        # just before finds its counter gone when it records "last seen" (see ws.live.close).
        closed = sum(self.services.live.close(balcao_id) for balcao_id in deleted.balcao_ids)
        # Its id may go to a new chain: no cached rules, no live feed may carry over.
        self.services.rules.forget(caller.cliente.id)
        self.services.feed.end_chain(caller.cliente.id)
        await self._announce(ChainDeleted(caller.cliente.id, tuple(deleted.balcao_ids)))
        answer = data.deleted_wire(
            balcoes=len(deleted.balcao_ids),
            interacoes=deleted.interacoes,
            regras_versoes=deleted.regras_versoes,
            sessoes=deleted.sessoes,
            closed=closed,
        )
        headers: tuple[tuple[str, str], ...] = NO_STORE
        if caller.sessao is not None:
            secure = request.scheme == "https"
            headers = (*NO_STORE, ("Set-Cookie", sessions.clear_cookie(secure=secure)))
        return json_response(200, answer, headers=headers)

    async def _announce(self, message: ChainDeleted) -> None:
        """With Redis: the other instances close the chain's sockets and feeds too. The data
        is gone either way (this call cannot be repeated): a failure is logged and counted;
        their sessions of the deleted counters fail at their next write."""
        if self.services.coord is not None:
            await self.services.coord.announce_or_log(
                message, f"chain {message.cliente_id} deleted"
            )
