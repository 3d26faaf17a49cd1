"""The counter instances' coordination through the repo's real HAProxy: two ``balto serve``
instances behind it, one PostgreSQL database and one redis-server, all real processes. What the
balancer spreads over both instances still meets one limit, and what one instance is told
reaches the sockets the other one holds."""

from __future__ import annotations

import json

from trio_websocket import open_websocket_url

from tests.e2e.test_counter_ws import auth, needs_espeak
from tests.e2e.test_http import CLIENTE
from tests.e2e.test_instances import until_metric
from tests.helpers import closed_with, http
from tests.scale.test_counter_lb import (
    INSTANCES,
    add_balcao,
    current_and_total,
    recommendation,
    shared_database,
    topology,
)

__all__ = ["shared_database"]  # the PostgreSQL fixture the topology shares

pytestmark = needs_espeak
CODIGO_FAILURES_BURST = 5  # CounterConfig.codigo_failures_burst, per client network
NEW_RULE = {
    "id": "costas_nova",
    "categoria": "dor nas costas e muscular",
    "gatilhos": ["dor nas costas"],  # what the instances' transcriber hears (COMPLAINT)
    "mensagem": "Ofereça Dorflex para as costas",
    "produto": "Dorflex",
}
NEW_RULES = {"versao": 1, "regras": [NEW_RULE]}


async def new_chain(port: int) -> tuple[str, str]:
    reply = await http(port, "POST", "/cadastro/cliente", CLIENTE)
    assert reply.status == 201, reply.body
    return reply.json()["codigo"], reply.json()["chave_admin"]


async def test_codigo_guesses_spread_by_the_balancer_meet_one_budget(
    redis_url, shared_database, tmp_path
):
    async with topology(redis_url, shared_database, tmp_path) as lb:
        port = lb.balancer.ports["balto"]
        codigo, _ = await new_chain(port)
        wrong = f"{(int(codigo) + 1) % 1_000_000:06d}"
        before = await current_and_total(lb.balancer)
        statuses = []
        for _ in range(2 * CODIGO_FAILURES_BURST):
            body = {"nome_balcao": "Intruso", "user_codigo": wrong}
            statuses.append((await http(port, "POST", "/cadastro/balcao", body)).status)
        after = await current_and_total(lb.balancer)
    # Both instances answered guesses, and together they granted one budget, not two.
    assert all(after[name][1] > before[name][1] for name in INSTANCES), (before, after)
    assert statuses[:CODIGO_FAILURES_BURST] == [400] * CODIGO_FAILURES_BURST, statuses
    assert set(statuses[CODIGO_FAILURES_BURST:]) == {429}, statuses


async def test_a_rule_change_and_a_revocation_reach_the_socket_on_the_other_instance(
    redis_url, shared_database, tmp_path
):
    async with topology(redis_url, shared_database, tmp_path) as lb:
        port = lb.balancer.ports["balto"]
        codigo, chave_admin = await new_chain(port)
        key_a = await add_balcao(port, codigo, "Loja 01")
        key_b = await add_balcao(port, codigo, "Loja 02")
        bearer = [("Authorization", f"Bearer {chave_admin}")]
        async with open_websocket_url(lb.ws_url) as ws_a, open_websocket_url(lb.ws_url) as ws_b:
            await auth(ws_a, key_a)
            await auth(ws_b, key_b)
            # leastconn: one socket on each instance
            assert {c for c, _ in (await current_and_total(lb.balancer)).values()} == {1}
            # Everything below is said to balto-1 alone; balto-2 holds one of the sockets.
            one, two = lb.ports["balto-1"], lb.ports["balto-2"]
            saved = await http(
                one,
                "PUT",
                "/api/regras",
                headers=[*bearer, ("content-type", "application/json")],
                raw_body=json.dumps(NEW_RULES).encode(),
            )
            assert saved.status == 200, saved.body
            await until_metric(two, 'balto_coord_received_total{tipo="regras"} 1.0')
            for ws in (ws_a, ws_b):  # both sessions, wherever they live, use the new rules
                assert (await recommendation(ws))["mensagem"] == NEW_RULE["mensagem"]
            counters = await http(one, "GET", "/api/balcoes", headers=bearer)
            for counter in json.loads(counters.body)["balcoes"]:
                path = f"/api/balcoes/{counter['id']}/revogar"
                assert (await http(one, "POST", path, headers=bearer)).status == 200
            for ws in (ws_a, ws_b):
                assert (await closed_with(ws, wait_s=10)).reason.code == 1008
