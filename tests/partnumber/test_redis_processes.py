"""The scaled topology as real processes on one real redis-server: two ``balto partnumber
serve`` instances with ``REDIS_URL`` and worker processes (``run_worker``, the code of
``balto partnumber worker``, with the scripted classifier). An official python-socketio client
on instance B follows a task posted to instance A; a worker killed with SIGKILL mid-task leaves
the task to another worker, and its result reaches the client once."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
import trio

from tests.helpers import http
from tests.partnumber.test_clients import HERE
from tests.redis_server import _free_port

ROOT = HERE.parent.parent
CLAIM_IDLE_S = "1"


def _env(redis_url: str, **more: str) -> dict[str, str]:
    path = os.pathsep.join([str(ROOT / "src"), str(ROOT), os.environ.get("PYTHONPATH", "")])
    return {**os.environ, "PYTHONPATH": path, "REDIS_URL": redis_url, **more}


class Instance:
    def __init__(self, port: int) -> None:
        self.port = port
        self.url = f"http://127.0.0.1:{port}"


async def _wait_healthy(port: int, process: trio.Process) -> None:
    with trio.fail_after(30):
        while True:
            assert process.returncode is None, "the instance exited"
            try:
                if (await http(port, "GET", "/health")).status == 200:
                    return
            except OSError:
                pass
            await trio.sleep(0.05)


@asynccontextmanager
async def running(command: list[str], env: dict[str, str]) -> AsyncIterator[trio.Process]:
    process = await trio.lowlevel.open_process(
        command, env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL
    )
    try:
        yield process
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
            with trio.move_on_after(10):
                await process.wait()
            if process.returncode is None:
                process.kill()
        await process.wait()


async def _until_line(process: trio.Process, wanted: bytes) -> None:
    assert process.stdout is not None
    seen = b""
    with trio.fail_after(30):
        while wanted not in seen:
            chunk = await process.stdout.receive_some(4096)
            assert chunk, f"the process ended before {wanted!r}: {seen!r}"
            seen += chunk


@asynccontextmanager
async def instance(redis_url: str) -> AsyncIterator[Instance]:
    port = _free_port()
    env = _env(redis_url, HOST="127.0.0.1", PORT=str(port))
    async with running([sys.executable, "-m", "balto", "partnumber", "serve"], env) as process:
        await _wait_healthy(port, process)
        yield Instance(port)


@asynccontextmanager
async def worker(redis_url: str, mode: str) -> AsyncIterator[trio.Process]:
    env = _env(redis_url, PARTNUMBER_CLAIM_IDLE_S=CLAIM_IDLE_S)
    command = [sys.executable, "-m", "tests.partnumber.worker_script", mode]
    async with running(command, env) as process:
        await _until_line(process, b"READY")
        yield process


async def python_client(on: Instance, post_to: Instance, timeout_s: int = 30) -> dict:
    pytest.importorskip("socketio", reason="python-socketio (cliente oficial) não instalado")
    with trio.fail_after(timeout_s + 10):
        done = await trio.run_process(
            [
                sys.executable,
                str(HERE / "sio_client_script.py"),
                on.url,
                "default",
                "flow",
                post_to.url,
            ],
            env={**os.environ, "SIO_CLIENT_TIMEOUT_S": str(timeout_s)},
            capture_stdout=True,
            capture_stderr=True,
            check=False,
        )
    assert done.returncode == 0, done.stderr.decode()[-3000:]
    seen: dict = json.loads(done.stdout)
    return seen


async def test_client_on_b_follows_a_task_posted_to_a_run_by_a_worker_process(redis_url: str):
    async with instance(redis_url) as a, instance(redis_url) as b, worker(redis_url, "normal"):
        seen = await python_client(on=b, post_to=a)
    (finished,) = seen["finished"]
    assert finished["status"] == "done" and finished["classification"]["code"] == "8471.30"
    assert seen["post_status"] == 202 and seen["transport"] == "websocket"


async def test_a_worker_killed_mid_task_leaves_it_to_another_and_it_finishes_once(
    redis_url: str, nursery: trio.Nursery
):
    async with instance(redis_url) as a, instance(redis_url) as b:
        outcome: dict = {}
        followed = trio.Event()

        async def follow() -> None:
            outcome.update(await python_client(on=b, post_to=a))
            followed.set()

        async with worker(redis_url, "hang") as doomed:
            nursery.start_soon(follow)
            await _until_line(doomed, b"HUNG")  # the task's first step is stored
            doomed.kill()  # SIGKILL: no goodbye, the entry stays pending
            await doomed.wait()
        async with worker(redis_url, "normal"):
            with trio.fail_after(40):
                await followed.wait()
        health = (await http(a.port, "GET", "/health")).json()
    (finished,) = outcome["finished"]  # exactly once, though two workers took the task
    assert finished["status"] == "done" and finished["partnumber"] == "PN-PY-12345"
    updates = [(u["current"], u["status"]) for u in outcome["updates"]]
    assert updates[-1] == ("3", "processing")
    # Step 1 from the killed worker, then the whole task again by the one that claimed it.
    assert [current for current, _ in updates].count("1") == 2
    assert health["queued"] == 0  # acknowledged and deleted from the stream
