"""Two counter instances (two real ``balto serve`` apps on loopback) sharing one SQLite file and
one real redis-server, as behind a load balancer: what one instance does reaches the other."""

from __future__ import annotations

from pathlib import Path

import pytest
import trio
from trio_websocket import open_websocket_url

from balto.core.config import ConfigError
from balto.counter.config import CounterConfig
from tests.conftest import RunningServer, start_server
from tests.e2e.test_admin_api import Chain, api, auth, balcoes, needs_espeak, new_chain, new_counter
from tests.e2e.test_admin_feed import Feed
from tests.e2e.test_rules_api import HEARD, SUN_SET, assert_quiet, put_rules, speak
from tests.helpers import ScriptedTranscriber, closed_with, http, next_json
from tests.redis_server import redis_server_port, redis_url, running_redis_server

__all__ = ["redis_server_port", "redis_url"]  # the real redis-server fixtures

WAIT_S = 10


async def two_instances(
    nursery: trio.Nursery,
    tmp_path: Path,
    redis_url: str,
    scripted: ScriptedTranscriber | None = None,
    **overrides: object,
) -> tuple[RunningServer, RunningServer]:
    scripted = scripted or ScriptedTranscriber([])
    a, b = [
        await start_server(
            nursery, tmp_path, lambda: scripted, scripted, redis_url=redis_url, **overrides
        )
        for _ in range(2)
    ]
    assert a.config.db_file == b.config.db_file  # one database
    return a, b


async def until_metric(port: int, line: str) -> None:
    """Until the instance's /metrics has ``line`` (the other instance's message arrived)."""
    with trio.fail_after(WAIT_S):
        while True:  # polling an HTTP endpoint: nothing to wait on from the test
            if line in (await http(port, "GET", "/metrics")).body.decode():
                return
            await trio.sleep(0.02)


async def guess(port: int, codigo: str) -> int:
    body = {"nome_balcao": "Intruso", "user_codigo": codigo}
    return (await http(port, "POST", "/cadastro/balcao", body)).status


def wrong(chain: Chain) -> str:
    return f"{(int(chain.codigo) + 1) % 1_000_000:06d}"


async def test_codigo_guesses_over_two_instances_share_one_budget(nursery, tmp_path, redis_url):
    a, b = await two_instances(nursery, tmp_path, redis_url, codigo_failures_burst=4)
    chain = await new_chain(a.port, "rede@a.com")
    statuses = [await guess(server.port, wrong(chain)) for server in (a, b, a, b)]
    assert statuses == [400] * 4, statuses  # four wrong codes, the budget of one network
    r = await http(b.port, "POST", "/cadastro/balcao", {"nome_balcao": "x", "user_codigo": "1"})
    assert r.status == 429 and int(r.headers["retry-after"]) > 0  # not a fresh budget on B
    assert await guess(a.port, chain.codigo) == 429  # nor on A, even with the right code
    for server in (a, b):
        server.lifecycle.stop()


async def test_open_registrations_over_two_instances_share_one_budget(nursery, tmp_path, redis_url):
    a, b = await two_instances(nursery, tmp_path, redis_url, cadastro_cliente_burst=2)
    await new_chain(a.port, "rede@a.com")
    await new_chain(b.port, "rede@b.com")
    body = {"email": "rede@c.com", "razao_social": "Rede", "telefone": "11999998888"}
    assert (await http(a.port, "POST", "/cadastro/cliente", body)).status == 429
    assert (await http(b.port, "POST", "/cadastro/cliente", body)).status == 429
    for server in (a, b):
        server.lifecycle.stop()


async def test_wrong_admin_keys_over_two_instances_share_one_budget(nursery, tmp_path, redis_url):
    a, b = await two_instances(nursery, tmp_path, redis_url, chave_admin_failures_burst=2)
    forged = Chain("000000", "x" * 43)
    assert (await api(a.port, "GET", "/api/balcoes", forged)).status == 401
    assert (await api(b.port, "GET", "/api/balcoes", forged)).status == 401
    assert (await api(a.port, "GET", "/api/balcoes", forged)).status == 429
    assert (await api(b.port, "GET", "/api/balcoes", forged)).status == 429
    for server in (a, b):
        server.lifecycle.stop()


async def test_revoking_on_a_closes_the_socket_on_b_1008(nursery, tmp_path, redis_url):
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
        r = await api(a.port, "POST", f"/api/balcoes/{counter_id}/revogar", chain)
        assert r.status == 200, r.body
        closed = await closed_with(ws)
        assert closed.reason.code == 1008 and closed.reason.reason == "api_key revogada"
        await other.send_message('{"comando": "voar"}')  # the other counter streams on
        assert (await next_json(other))["comando"] == "erro"
    for server in (a, b):
        server.lifecycle.stop()


async def test_deleting_a_chain_on_a_closes_its_sockets_and_feeds_on_b(
    nursery, tmp_path, redis_url
):
    a, b = await two_instances(nursery, tmp_path, redis_url)
    chain = await new_chain(a.port, "rede@a.com")
    key = await new_counter(a.port, chain, "Loja 01")
    feed = await Feed.open(b.port, chain.bearer)
    async with open_websocket_url(b.ws_url) as ws:
        await auth(ws, key)
        r = await api(a.port, "DELETE", "/api/dados", chain, body={"confirmar": chain.codigo})
        assert r.status == 200, r.body
        closed = await closed_with(ws)
        assert closed.reason.code == 1008
    assert (await feed.next())[0] == "fim"
    await feed.stream.aclose()
    for server in (a, b):
        server.lifecycle.stop()


@needs_espeak
async def test_a_rule_change_on_a_reaches_a_live_session_on_b(
    nursery, tmp_path, redis_url, scripted
):
    scripted.texts.extend([HEARD] * 200)
    a, b = await two_instances(nursery, tmp_path, redis_url, scripted)
    chain = await new_chain(a.port, "rede@a.com")
    key = await new_counter(a.port, chain, "Loja 01")
    async with open_websocket_url(b.ws_url) as ws:
        await auth(ws, key)
        await speak(ws)  # the default rules on B
        rec = await next_json(ws)
        assert rec["mensagem"] == "Sugerir Dorflex", rec
        r = await put_rules(a.port, chain, SUN_SET)  # through A's management API
        assert r.status == 200, r.body
        await until_metric(b.port, 'balto_coord_received_total{tipo="regras"} 1.0')
        await speak(ws)  # the same socket on B, now with A's new rules
        rec = await next_json(ws)
        assert (rec["mensagem"], rec["produto"]) == ("Sugerir protetor solar", "Protetor solar")
        await assert_quiet(ws, 0.5)  # no Dorflex: that rule is gone on B too
    for server in (a, b):
        server.lifecycle.stop()


@needs_espeak
async def test_the_feed_on_a_shows_what_happens_on_b_once(nursery, tmp_path, redis_url, scripted):
    scripted.texts.extend([HEARD] * 200)
    a, b = await two_instances(nursery, tmp_path, redis_url, scripted)
    chain, other = await new_chain(a.port, "rede@a.com"), await new_chain(a.port, "rede@b.com")
    key = await new_counter(a.port, chain, "Loja 01")
    on_a, on_b = await Feed.open(a.port, chain.bearer), await Feed.open(b.port, chain.bearer)
    theirs = await Feed.open(a.port, other.bearer)
    async with open_websocket_url(b.ws_url) as ws:
        await auth(ws, key)
        await speak(ws)
        rec = await next_json(ws)
        assert rec["comando"] == "recomendar", rec
    for feed in (on_a, on_b):  # the instance's own subscriber and the other one's: once each
        kind, data = await feed.next()
        assert (kind, data["id_interacao"], data["nome_balcao"]) == (
            "recomendacao",
            rec["id_interacao"],
            "Loja 01",
        )
        await feed.assert_quiet(0.5)
    await theirs.assert_quiet(0.1)  # another chain's panel sees nothing
    for server in (a, b):
        server.lifecycle.stop()
    for feed in (on_a, on_b, theirs):
        await feed.stream.aclose()


async def test_without_redis_health_is_503_and_registration_fails_closed(
    nursery, tmp_path, scripted
):
    with running_redis_server() as port:
        url = f"redis://127.0.0.1:{port}/0"
        server = await start_server(nursery, tmp_path, lambda: scripted, scripted, redis_url=url)
        chain = await new_chain(server.port, "rede@a.com")
        health = await http(server.port, "GET", "/health")
        assert health.status == 200, health.body
        assert (health.json()["redis"], health.json()["redis_pubsub"]) == ("ok", "ok")
    # That redis-server is stopped now.
    health = await http(server.port, "GET", "/health")
    assert health.status == 503 and health.json()["redis"] == "indisponível"
    assert health.json()["status"] == "indisponível"
    r = await http(
        server.port, "POST", "/cadastro/balcao", {"nome_balcao": "x", "user_codigo": chain.codigo}
    )
    assert r.status == 503 and "Redis" in r.json()["error"]  # fail closed, nothing registered
    body = {"email": "rede@b.com", "razao_social": "Rede", "telefone": "11999998888"}
    assert (await http(server.port, "POST", "/cadastro/cliente", body)).status == 503
    assert (await api(server.port, "GET", "/api/balcoes", chain)).json()["balcoes"] == []
    counter_ids = [row["id"] for row in (await balcoes(server.port, chain)).values()]
    assert counter_ids == []  # the panel works on (its key limit falls back to this instance)
    with running_redis_server(port):  # back, empty, on the same port
        with trio.fail_after(WAIT_S):  # Redis answers and the channel is subscribed again
            while True:
                if (await http(server.port, "GET", "/health")).status == 200:
                    break
                await trio.sleep(0.05)
        await new_counter(server.port, chain, "Loja 01")
        server.lifecycle.stop()


async def test_a_revocation_made_while_redis_was_down_reaches_b_when_it_returns(nursery, tmp_path):
    with running_redis_server() as port:
        url = f"redis://127.0.0.1:{port}/0"
        a, b = await two_instances(nursery, tmp_path, url)
        chain = await new_chain(a.port, "rede@a.com")
        key = await new_counter(a.port, chain, "Loja 01")
        counter_id = (await balcoes(a.port, chain))["Loja 01"]["id"]
    async with open_websocket_url(b.ws_url) as ws:
        await auth(ws, key)  # B's database check needs no Redis
        r = await api(a.port, "POST", f"/api/balcoes/{counter_id}/revogar", chain)
        assert r.status == 503 and "repita a revogação" in r.json()["error"]  # written, not told
        await ws.send_message('{"comando": "voar"}')  # B has not heard of it yet
        assert (await next_json(ws))["comando"] == "erro"
        with running_redis_server(port):  # back: B subscribes again and checks its counters
            closed = await closed_with(ws, wait_s=WAIT_S)
            assert closed.reason.code == 1008 and closed.reason.reason == "api_key revogada"
            for server in (a, b):
                server.lifecycle.stop()


def test_redis_url_is_read_from_the_environment_and_checked():
    assert CounterConfig.from_env({}).redis_url == ""  # one instance, as always
    assert CounterConfig.from_env({"REDIS_URL": "redis://cache:6380/1"}).redis_url == (
        "redis://cache:6380/1"
    )
    with pytest.raises(ConfigError, match="REDIS_URL"):
        CounterConfig.from_env({"REDIS_URL": "http://cache"})
