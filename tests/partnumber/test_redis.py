"""Partnumber across instances on a real redis-server: two instances share one Redis, a worker
classifies, and the events of a task posted to one instance reach sockets on the other."""

from __future__ import annotations

import threading
from functools import partial

import pytest
import trio

from balto.cli import build_parser
from balto.core.config import ConfigError
from balto.core.lifecycle import Lifecycle
from balto.partnumber.config import PartnumberConfig
from balto.partnumber.redis_worker import StreamWorker
from balto.partnumber.service import run_worker
from tests.helpers import http
from tests.partnumber.conftest import PartnumberServer, start_partnumber
from tests.partnumber.doubles import ScriptedClassifier
from tests.partnumber.support import PN, post_task, wait_state
from tests.partnumber.test_clients import check_flow, run_python_client
from tests.redis_server import running_redis_server


async def start_worker(
    nursery: trio.Nursery, redis_url: str, classifier: ScriptedClassifier, claim_idle_s: float = 5
) -> tuple[StreamWorker, Lifecycle]:
    lifecycle = Lifecycle()
    config = PartnumberConfig(redis_url=redis_url, claim_idle_s=claim_idle_s)
    worker = await nursery.start(
        partial(run_worker, config, classifier_factory=lambda: classifier, lifecycle=lifecycle)
    )
    return worker, lifecycle


async def two_instances(nursery: trio.Nursery, redis_url: str) -> list[PartnumberServer]:
    unused = ScriptedClassifier()  # with Redis the instances classify nothing
    return [await start_partnumber(nursery, unused, redis_url=redis_url) for _ in range(2)]


async def test_official_client_on_b_gets_the_events_of_a_task_posted_to_a(
    nursery: trio.Nursery, redis_url: str
) -> None:
    a, b = await two_instances(nursery, redis_url)
    classifier = ScriptedClassifier()
    worker, _ = await start_worker(nursery, redis_url, classifier)
    for transport in ("polling", "websocket"):
        seen = await run_python_client(b, transport, "flow", post_to=a)
        check_flow(seen, transport)
    assert worker.completed == 2 and len(classifier.requests) == 2
    for server in (a, b):
        server.lifecycle.stop()


async def test_task_state_and_late_join_from_any_instance(
    nursery: trio.Nursery, redis_url: str
) -> None:
    a, b = await two_instances(nursery, redis_url)
    await start_worker(nursery, redis_url, ScriptedClassifier())
    accepted = await post_task(a)
    done = await wait_state(b, accepted["task_id"], "done")
    assert done["room_id"] == accepted["room_id"] and done["result"]["status"] == "done"
    reply = await http(a.port, "GET", f"/tasks/{accepted['task_id']}")
    assert reply.json() == done
    seen = await run_python_client(b, "default", "late", post_to=a)
    check_flow(seen, "default", late=True)
    health = (await http(b.port, "GET", "/health")).json()
    assert health["redis"] == "ok" and health["queued"] == 0
    for server in (a, b):
        server.lifecycle.stop()


async def test_without_workers_the_queue_bound_is_a_429_and_unknown_tasks_a_404(
    nursery: trio.Nursery, redis_url: str
) -> None:
    server = await start_partnumber(
        nursery, ScriptedClassifier(), redis_url=redis_url, max_queued_tasks=1
    )
    accepted = await post_task(server)  # no worker yet: it waits in the stream
    assert (await http(server.port, "GET", f"/tasks/{accepted['task_id']}")).json()["state"] == (
        "queued"
    )
    full = await http(server.port, "POST", "/classify-partnumber", {"partnumber": "PN-2"})
    assert full.status == 429 and full.headers["retry-after"]
    assert (await http(server.port, "GET", "/tasks/nao-existe")).status == 404
    await start_worker(nursery, redis_url, ScriptedClassifier())
    await wait_state(server, accepted["task_id"], "done")  # the worker takes what waited
    server.lifecycle.stop()


def test_the_config_reads_redis_settings() -> None:
    config = PartnumberConfig.from_env(
        {
            "REDIS_URL": "redis://cache:6380/1",
            "PARTNUMBER_TASK_TTL_S": "60",
            "PARTNUMBER_CLAIM_IDLE_S": "2.5",
        }
    )
    assert (config.redis_url, config.task_ttl_s, config.claim_idle_s) == (
        "redis://cache:6380/1",
        60.0,
        2.5,
    )
    for env in ({"REDIS_URL": "http://x"}, {"PARTNUMBER_CLAIM_IDLE_S": "0"}):
        with pytest.raises(ConfigError):
            PartnumberConfig.from_env(env)


def test_the_worker_command_needs_redis_url(capsys: pytest.CaptureFixture[str]) -> None:
    from balto.cli import cmd_partnumber_worker, main

    args = build_parser().parse_args(["partnumber", "worker", "--catalog", "c.csv"])
    assert args.func is cmd_partnumber_worker
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv("REDIS_URL", raising=False)
        assert main(["partnumber", "worker"]) == 1
    errors = [line for line in capsys.readouterr().err.splitlines() if line.startswith("erro:")]
    assert len(errors) == 1 and "REDIS_URL" in errors[0]


async def test_a_stopped_worker_finishes_the_task_in_hand(
    nursery: trio.Nursery, redis_url: str
) -> None:
    server = await start_partnumber(nursery, ScriptedClassifier(), redis_url=redis_url)
    classifier = ScriptedClassifier()
    classifier.gate = threading.Event()
    worker, lifecycle = await start_worker(nursery, redis_url, classifier)
    accepted = await post_task(server)
    await wait_state(server, accepted["task_id"], "processing")
    lifecycle.stop()  # SIGTERM: no new task, but the one in hand is stored
    await trio.sleep(0.1)
    classifier.gate.set()
    await wait_state(server, accepted["task_id"], "done")
    assert worker.completed == 1
    server.lifecycle.stop()


async def test_health_says_when_redis_is_gone_and_events_flow_again_after_it_returns(
    nursery: trio.Nursery,
) -> None:
    with running_redis_server() as port:
        url = f"redis://127.0.0.1:{port}/0"
        server = await start_partnumber(nursery, ScriptedClassifier(), redis_url=url)
    # That redis-server is stopped now.
    health = await http(server.port, "GET", "/health")
    assert health.status == 503 and health.json()["redis"] == "indisponível"
    assert (await http(server.port, "POST", "/classify-partnumber", PN)).status == 503
    with running_redis_server(port):  # back, empty, on the same port
        await start_worker(nursery, url, ScriptedClassifier())
        with trio.fail_after(10):  # Redis answers and the channel is subscribed again
            while True:
                if (await http(server.port, "GET", "/health")).status == 200:
                    break
                await trio.sleep(0.05)
        seen = await run_python_client(server, "websocket", "flow")  # the channel is back
        check_flow(seen, "websocket")
        server.lifecycle.stop()
