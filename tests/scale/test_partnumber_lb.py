"""Partnumber behind the repo's HAProxy, all real processes: two ``balto partnumber serve``
instances sharing a redis-server, one worker, haproxy in front. The official python-socketio
client connects through the balancer only: polling then the websocket upgrade, and polling
alone, which works only because HAProxy's cookie sends a session's requests to the instance
that holds it (round robin would send every other one to the wrong instance)."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path

import pytest
import trio

from tests.helpers import http
from tests.partnumber.test_clients import HERE
from tests.partnumber.test_redis_processes import _env, _wait_healthy, running, worker
from tests.redis_server import _free_port
from tests.scale.haproxy import BALANCER_ADDRESS, Balancer, running_haproxy

INSTANCES = ("partnumber-1", "partnumber-2")


@asynccontextmanager
async def topology(redis_url: str, tmp_path: Path) -> AsyncIterator[tuple[Balancer, dict]]:
    """HAProxy, the two instances (server name → process) and one worker."""
    async with AsyncExitStack() as stack:
        processes: dict[str, trio.Process] = {}
        ports: dict[str, int] = {}
        for name in INSTANCES:
            ports[name] = _free_port()
            env = _env(
                redis_url,
                HOST="127.0.0.1",
                PORT=str(ports[name]),
                TRUSTED_PROXIES=BALANCER_ADDRESS,  # as the compose file trusts HAProxy
            )
            command = [sys.executable, "-m", "balto", "partnumber", "serve"]
            processes[name] = await stack.enter_async_context(running(command, env))
            await _wait_healthy(ports[name], processes[name])
        await stack.enter_async_context(worker(redis_url, "normal"))
        balancer = await stack.enter_async_context(running_haproxy(ports, tmp_path))
        yield balancer, processes


async def sio_client(balancer: Balancer, transport: str, timeout_s: int = 30) -> dict:
    """tests/partnumber/sio_client_script.py's flow, socket and POST both on the balancer."""
    pytest.importorskip("socketio", reason="python-socketio (cliente oficial) não instalado")
    url = f"http://127.0.0.1:{balancer.ports['partnumber']}"
    with trio.fail_after(timeout_s + 10):
        done = await trio.run_process(
            [sys.executable, str(HERE / "sio_client_script.py"), url, transport, "flow"],
            env={**os.environ, "SIO_CLIENT_TIMEOUT_S": str(timeout_s)},
            capture_stdout=True,
            capture_stderr=True,
            check=False,
        )
    assert done.returncode == 0, done.stderr.decode()[-3000:]
    seen: dict = json.loads(done.stdout)
    return seen


def assert_one_finished_task(seen: dict) -> None:
    (finished,) = seen["finished"]
    assert finished["status"] == "done" and finished["partnumber"] == "PN-PY-12345"
    assert seen["post_status"] == 202 and seen["sid_matches"]


async def sessions_by_instance(balancer: Balancer) -> dict[str, int]:
    stats = await balancer.stats()
    return {name: int(stats[("partnumber", name)]["stot"]) for name in INSTANCES}


async def test_handshake_sets_the_cookie_that_pins_the_session(redis_url, tmp_path):
    async with topology(redis_url, tmp_path) as (balancer, _):
        port = balancer.ports["partnumber"]
        reply = await http(port, "GET", "/socket.io/?EIO=4&transport=polling")
        assert reply.status == 200
        cookie = reply.headers["set-cookie"]
        assert cookie.startswith(("BALTO_PN=pn1;", "BALTO_PN=pn2;")) and "HttpOnly" in cookie
        # /health through the balancer: whichever instance answers, it reaches Redis
        health = await http(port, "GET", "/health")
        assert health.status == 200 and health.json()["status"] == "ok"


async def test_official_client_through_haproxy_upgraded_polling_only_and_websocket_only(
    redis_url, tmp_path
):
    async with topology(redis_url, tmp_path) as (balancer, _):
        upgraded = await sio_client(balancer, "default")
        polling = await sio_client(balancer, "polling")
        websocket = await sio_client(balancer, "websocket")
        used = await sessions_by_instance(balancer)
    assert_one_finished_task(upgraded)
    assert upgraded["transport"] == "websocket"
    assert_one_finished_task(websocket)
    assert_one_finished_task(polling)
    assert polling["transport"] == "polling"
    assert polling["echo"] == "olá" and polling["pong"] == {"message": "pong"}
    # round robin spread the handshakes and the cookie-less POSTs over both instances
    assert all(count > 0 for count in used.values()), used


async def test_a_killed_instance_is_taken_out_and_clients_go_to_the_other(redis_url, tmp_path):
    async with topology(redis_url, tmp_path) as (balancer, processes):
        processes["partnumber-1"].kill()  # SIGKILL: no goodbye
        await processes["partnumber-1"].wait()
        await balancer.wait_for("partnumber", "partnumber-1", "DOWN")
        before = await sessions_by_instance(balancer)
        seen = await sio_client(balancer, "default")
        polling = await sio_client(balancer, "polling")
        after = await sessions_by_instance(balancer)
        health = await http(balancer.ports["partnumber"], "GET", "/health")
    assert_one_finished_task(seen)
    assert_one_finished_task(polling)
    assert after["partnumber-1"] == before["partnumber-1"]
    assert after["partnumber-2"] > before["partnumber-2"]
    assert health.status == 200
