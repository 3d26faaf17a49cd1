"""A counter's key rotated on one instance closes the old key's socket held by another (real
``balto serve`` apps sharing one SQLite file and a real redis-server), also when Redis was down
at the time of the rotation."""

from __future__ import annotations

import json

from trio_websocket import open_websocket_url

from tests.e2e.test_admin_api import api, auth, balcoes, new_chain, new_counter
from tests.e2e.test_instances import WAIT_S, two_instances
from tests.helpers import closed_with, next_json
from tests.redis_server import redis_server_port, redis_url, running_redis_server

__all__ = ["redis_server_port", "redis_url"]  # the real redis-server fixtures

REPLACED = "api_key substituída por uma nova"


async def test_rotating_on_a_closes_the_old_keys_socket_on_b_1008(nursery, tmp_path, redis_url):
    a, b = await two_instances(nursery, tmp_path, redis_url)
    chain = await new_chain(a.port, "rede@a.com")
    key = await new_counter(b.port, chain, "Loja 01")
    other_key = await new_counter(a.port, chain, "Loja 02")
    async with (
        open_websocket_url(b.ws_url) as ws,
        open_websocket_url(b.ws_url) as other,
    ):
        await auth(ws, key)
        await auth(other, other_key)
        counter_id = (await balcoes(a.port, chain))["Loja 01"]["id"]
        r = await api(a.port, "POST", f"/api/balcoes/{counter_id}/trocar-chave", chain)
        assert r.status == 200, r.body
        assert r.json()["sessoes_encerradas"] == 0 and "aviso" not in r.json()  # none on A
        new_key = r.json()["api_key"]
        closed = await closed_with(ws, wait_s=WAIT_S)
        assert closed.reason.code == 1008 and closed.reason.reason == REPLACED
        await other.send_message('{"comando": "voar"}')  # the other counter streams on
        assert (await next_json(other))["comando"] == "erro"
    async with open_websocket_url(b.ws_url) as ws:
        await ws.send_message(json.dumps({"comando": "auth", "api_key": key}))
        closed = await closed_with(ws)
        assert closed.reason.code == 1008 and closed.reason.reason == "api_key inválida"
    async with open_websocket_url(b.ws_url) as ws:
        await auth(ws, new_key)  # the new key works on B at once
        listed = await balcoes(a.port, chain)
        assert listed["Loja 01"]["id"] == counter_id
    for server in (a, b):
        server.lifecycle.stop()


async def test_a_rotation_made_while_redis_was_down_reaches_b_when_it_returns(nursery, tmp_path):
    with running_redis_server() as port:
        url = f"redis://127.0.0.1:{port}/0"
        a, b = await two_instances(nursery, tmp_path, url)
        chain = await new_chain(a.port, "rede@a.com")
        key = await new_counter(a.port, chain, "Loja 01")
        counter_id = (await balcoes(a.port, chain))["Loja 01"]["id"]
    async with open_websocket_url(b.ws_url) as ws:
        await auth(ws, key)
        r = await api(a.port, "POST", f"/api/balcoes/{counter_id}/trocar-chave", chain)
        # Written: the new key is shown (it exists nowhere else), with the warning.
        assert r.status == 200, r.body
        assert r.json()["api_key"] != key and "Redis" in r.json()["aviso"]
        await ws.send_message('{"comando": "voar"}')  # B has not heard of it yet
        assert (await next_json(ws))["comando"] == "erro"
        with running_redis_server(port):  # back: B subscribes again and checks its counters
            closed = await closed_with(ws, wait_s=WAIT_S)
            assert closed.reason.code == 1008 and closed.reason.reason == REPLACED
            for server in (a, b):
                server.lifecycle.stop()
