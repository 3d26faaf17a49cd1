"""The counter service behind the repo's HAProxy, all real processes: two ``balto serve``
instances (tests/scale/counter_script.py: the real app with a scripted transcriber) sharing one
database, haproxy in front. Registration, the counters' WebSocket and /health go through the
balancer only; HAProxy's own status page says which instance took what."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
import trio
from trio_websocket import open_websocket_url

from tests.e2e.test_counter_ws import auth, needs_espeak
from tests.e2e.test_http import register
from tests.helpers import feedback, http, next_json
from tests.partnumber.test_redis_processes import _env, _wait_healthy, running
from tests.postgres import Cluster
from tests.redis_server import _free_port
from tests.robustness.test_faults import stream_speech
from tests.scale.counter_script import COMPLAINT
from tests.scale.haproxy import BALANCER_ADDRESS, Balancer, running_haproxy

INSTANCES = ("balto-1", "balto-2")
SLOW_LOAD_S = 8

pytestmark = needs_espeak  # the streamed speech is espeak-ng's


@pytest.fixture
def shared_database(postgres: Cluster) -> dict[str, str]:
    """The environment that gives every instance the same database, as in the scaled topology:
    an empty database of the tests' real PostgreSQL cluster."""
    return {"DATABASE_URL": postgres.new_database()}


@dataclass
class Topology:
    balancer: Balancer
    processes: dict[str, trio.Process]  # server name → its process
    ports: dict[str, int]  # server name → its own port (around the balancer)

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.balancer.ports['balto']}/ws"


@asynccontextmanager
async def topology(
    redis_url: str,
    database: dict[str, str],
    tmp_path: Path,
    *,
    slow_load: str | None = None,
    without: str | None = None,
    more_env: dict[str, str] | None = None,
) -> AsyncIterator[Topology]:
    """HAProxy and the two instances; ``slow_load`` names one whose model takes SLOW_LOAD_S to
    load (then HAProxy is running, but not every server is up yet). ``without``: a word taken
    out of HAProxy's config; ``more_env``: more of the instances' environment."""
    async with AsyncExitStack() as stack:
        processes: dict[str, trio.Process] = {}
        ports: dict[str, int] = {}
        for name in INSTANCES:  # one after the other: the first creates the schema
            ports[name] = _free_port()
            load_s = SLOW_LOAD_S if name == slow_load else 0
            env = _env(
                redis_url,
                HOST="127.0.0.1",
                PORT=str(ports[name]),
                TEST_MODEL_LOAD_S=str(load_s),
                # HAProxy's address here, as the compose file's TRUSTED_PROXIES is there: its
                # PROXY header and X-Forwarded-For name the client the limits key on.
                TRUSTED_PROXIES=BALANCER_ADDRESS,
                **database,
                **(more_env or {}),
            )
            command = [sys.executable, "-m", "tests.scale.counter_script"]
            processes[name] = await stack.enter_async_context(running(command, env))
            await _wait_healthy(ports[name], processes[name])  # 200 already while loading
        balancer = await stack.enter_async_context(
            running_haproxy(ports, tmp_path, wait_up=slow_load is None, without=without)
        )
        yield Topology(balancer, processes, ports)


async def add_balcao(port: int, codigo: str, nome: str) -> str:
    reply = await http(
        port, "POST", "/cadastro/balcao", {"nome_balcao": nome, "user_codigo": codigo}
    )
    assert reply.status == 201, reply.body
    api_key: str = reply.json()["api_key"]
    return api_key


async def recommendation(ws) -> dict:
    await stream_speech(ws, COMPLAINT)
    rec = await next_json(ws, wait_s=20)
    assert rec["comando"] == "recomendar" and rec["id_interacao"], rec
    return rec


async def current_and_total(balancer: Balancer) -> dict[str, tuple[int, int]]:
    stats = await balancer.stats()
    rows = {name: stats[("balto", name)] for name in INSTANCES}
    return {name: (int(row["scur"]), int(row["stot"])) for name, row in rows.items()}


async def test_registered_through_the_balancer_streaming_on_both_instances(
    redis_url, shared_database, tmp_path
):
    async with topology(redis_url, shared_database, tmp_path) as lb:
        balancer = lb.balancer
        port = balancer.ports["balto"]
        codigo, key_a = await register(port)
        key_b = await add_balcao(port, codigo, "Loja 02")
        for name in INSTANCES:  # whichever instance stored them, each knows both keys
            for key in (key_a, key_b):
                async with open_websocket_url(f"ws://127.0.0.1:{lb.ports[name]}/ws") as direct:
                    await auth(direct, key)
        async with open_websocket_url(lb.ws_url) as ws_a, open_websocket_url(lb.ws_url) as ws_b:
            await auth(ws_a, key_a)
            await auth(ws_b, key_b)
            # leastconn: the second counter's socket went to the other instance
            assert {c for c, _ in (await current_and_total(balancer)).values()} == {1}
            rec_a = await recommendation(ws_a)
            rec_b = await recommendation(ws_b)
            # feedback on the recommendation the other instance stored: one shared database
            await ws_b.send_message(feedback(rec_b["id_interacao"], "venda_realizada"))
            assert (await next_json(ws_b))["comando"] == "feedback_ok"
            await ws_a.send_message(feedback(rec_a["id_interacao"], "venda_perdida"))
            assert (await next_json(ws_a))["comando"] == "feedback_ok"
        health = await http(port, "GET", "/health")
    assert health.status == 200 and health.json()["status"] == "ok"


async def test_a_killed_instance_is_taken_out_and_new_counters_go_to_the_other(
    redis_url, shared_database, tmp_path
):
    async with topology(redis_url, shared_database, tmp_path) as lb:
        balancer = lb.balancer
        port = balancer.ports["balto"]
        codigo, key_a = await register(port)
        lb.processes["balto-1"].kill()  # SIGKILL: no goodbye
        await lb.processes["balto-1"].wait()
        await balancer.wait_for("balto", "balto-1", "DOWN")
        before = await current_and_total(balancer)
        key_b = await add_balcao(port, codigo, "Loja 02")  # a new counter, after the loss
        async with open_websocket_url(lb.ws_url) as ws_a, open_websocket_url(lb.ws_url) as ws_b:
            await auth(ws_a, key_a)
            await auth(ws_b, key_b)
            await recommendation(ws_b)
            during = await current_and_total(balancer)
        health = await http(port, "GET", "/health")
    assert during["balto-1"] == before["balto-1"]  # nothing more went to the dead one
    assert during["balto-2"][0] == 2 and during["balto-2"][1] >= before["balto-2"][1] + 3
    assert health.status == 200 and health.json()["status"] == "ok"


async def test_an_instance_still_loading_its_model_gets_no_counters_until_ready(
    redis_url, shared_database, tmp_path
):
    async with topology(redis_url, shared_database, tmp_path, slow_load="balto-2") as lb:
        health = await http(lb.ports["balto-2"], "GET", "/health")
        assert health.status == 200 and health.json()["status"] == "iniciando"
        # 200, but not "ok": the health check's expect keeps it out of rotation
        await lb.balancer.wait_for("balto", "balto-2", "DOWN")
        await lb.balancer.wait_for("balto", "balto-1", "UP")
        codigo, key_a = await register(lb.balancer.ports["balto"])
        key_b = await add_balcao(lb.balancer.ports["balto"], codigo, "Loja 02")
        async with open_websocket_url(lb.ws_url) as ws_a, open_websocket_url(lb.ws_url) as ws_b:
            await auth(ws_a, key_a)
            await auth(ws_b, key_b)
            loading = await current_and_total(lb.balancer)
        assert loading["balto-1"][0] == 2 and loading["balto-2"] == (0, 0)
        # loaded: back in rotation by the same check
        await lb.balancer.wait_for("balto", "balto-2", "UP", timeout_s=SLOW_LOAD_S + 20)
        async with open_websocket_url(lb.ws_url) as ws_a, open_websocket_url(lb.ws_url) as ws_b:
            await auth(ws_a, key_a)
            await auth(ws_b, key_b)
            loaded = await current_and_total(lb.balancer)
        assert loaded["balto-1"][0] == loaded["balto-2"][0] == 1
