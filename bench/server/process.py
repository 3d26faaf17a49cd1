"""The server under test: ``balto serve`` as a subprocess on a loopback port.

:func:`balto_server` starts it (real whisper model, temp ``DB_FILE``, port 0 read back from its
log), waits for ``/health`` to report the recogniser ready, and stops it with SIGTERM.
"""

from __future__ import annotations

import collections
import dataclasses
import os
import re
import secrets
import signal
import subprocess
import sys
import tempfile
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from pathlib import Path

import trio

from bench.server.probes import (
    HOST,
    BenchError,
    HttpReply,
    Metrics,
    http_request,
    metric,
    parse_metrics,
)

STARTUP_TIMEOUT_S = 120.0  # model load on a busy machine
STOP_TIMEOUT_S = 120.0
LOG_LINES_KEPT = 200

_LISTENING = re.compile(r"listening on \('127\.0\.0\.1', (\d+)\)")


@dataclasses.dataclass(frozen=True, slots=True)
class ServerSettings:
    model_path: Path
    asr_workers: int = 0
    asr_threads_per_worker: int = 1
    cooldown_s: float = 10.0  # RECOMMENDATION_COOLDOWN_S; see bench.server
    max_connections: int = 4096
    max_connections_per_address: int = 512
    extra_env: Mapping[str, str] = dataclasses.field(default_factory=dict)

    def env(self, db_file: Path, admin_token: str) -> dict[str, str]:
        env = dict(os.environ)
        env.update(
            {
                "DB_FILE": str(db_file),
                "BALTO_MODEL": str(self.model_path),
                "ASR_WORKERS": str(self.asr_workers),
                "ASR_THREADS_PER_WORKER": str(self.asr_threads_per_worker),
                "RECOMMENDATION_COOLDOWN_S": str(self.cooldown_s),
                "MAX_CONNECTIONS": str(self.max_connections),
                "MAX_CONNECTIONS_PER_ADDRESS": str(self.max_connections_per_address),
                "ADMIN_TOKEN": admin_token,
                "STORE_TRANSCRIPTS": "0",
                "PYTHONUNBUFFERED": "1",
            }
        )
        env.update(self.extra_env)
        return env


class BaltoServer:
    """A running ``balto serve``; create it with :func:`balto_server`."""

    def __init__(self, process: trio.Process, db_file: Path, admin_token: str) -> None:
        self.process = process
        self.db_file = db_file
        self.admin_token = admin_token
        self.port = 0
        self.listening = trio.Event()
        self.log: collections.deque[str] = collections.deque(maxlen=LOG_LINES_KEPT)
        self.warnings: list[str] = []  # WARNING / ERROR / Traceback lines, all of them
        self.stop_s: float | None = None  # how long the graceful shutdown took

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def ws_url(self) -> str:
        return f"ws://{HOST}:{self.port}/ws"

    @property
    def admin_headers(self) -> list[tuple[str, str]]:
        return [("authorization", f"Bearer {self.admin_token}")]

    async def read_log(self) -> None:
        """Keep the stderr pipe drained (a full pipe would stall the server) and watch it."""
        stream = self.process.stderr
        assert stream is not None
        pending = b""
        for _ in range(10_000_000):
            chunk = await stream.receive_some(65536)
            if not chunk:
                return
            pending += chunk
            *lines, pending = pending.split(b"\n")
            for raw in lines:
                line = raw.decode("utf-8", "replace")
                self.log.append(line)
                if " WARNING " in line or " ERROR " in line or line.startswith("Traceback"):
                    self.warnings.append(line)
                found = _LISTENING.search(line)
                if found and not self.listening.is_set():
                    self.port = int(found.group(1))
                    self.listening.set()

    async def get(self, path: str) -> HttpReply:
        return await http_request(self.port, "GET", path)

    async def metrics(self) -> Metrics:
        reply = await self.get("/metrics")
        if reply.status != 200:
            raise BenchError(f"/metrics answered {reply.status}")
        return parse_metrics(reply.body.decode())

    async def wait_ready(self, timeout_s: float = STARTUP_TIMEOUT_S) -> None:
        with trio.fail_after(timeout_s):
            await self.listening.wait()
            for _ in range(int(timeout_s / 0.1) + 1):
                reply = await self.get("/health")
                if reply.status == 200 and reply.json().get("recognizer_ready"):
                    return
                await trio.sleep(0.1)  # another process: nothing to wait on but its answer
        raise BenchError("the server never reported its recogniser ready")

    async def wait_sessions(self, count: int, timeout_s: float = 30.0) -> float:
        """Wait until the server holds ``count`` authenticated counter sockets."""
        active = -1.0
        with trio.move_on_after(timeout_s):
            for _ in range(int(timeout_s / 0.1) + 1):
                active = metric(await self.metrics(), "balto_counter_sessions_active")
                if active == count:
                    return active
                await trio.sleep(0.1)
        return active

    async def register(self, counters: int, *, concurrency: int = 16) -> list[str]:
        """One cliente and ``counters`` balcões; their api_keys, in order."""
        tag = secrets.token_hex(4)
        reply = await http_request(
            self.port,
            "POST",
            "/cadastro/cliente",
            {
                "email": f"bench-{tag}@balto.test",
                "razao_social": "Bench",
                "telefone": "11999998888",
            },
            headers=self.admin_headers,
        )
        if reply.status != 201:
            raise BenchError(f"cadastro/cliente answered {reply.status}: {reply.body!r}")
        codigo = reply.json()["codigo"]
        keys: list[str | None] = [None] * counters
        limiter = trio.CapacityLimiter(concurrency)

        async def one(index: int) -> None:
            async with limiter:
                got = await http_request(
                    self.port,
                    "POST",
                    "/cadastro/balcao",
                    {"nome_balcao": f"Balcão {index:04d}", "user_codigo": codigo},
                )
            if got.status != 201:
                raise BenchError(f"cadastro/balcao answered {got.status}: {got.body!r}")
            keys[index] = got.json()["api_key"]

        async with trio.open_nursery() as nursery:
            for index in range(counters):
                nursery.start_soon(one, index)
        return [key for key in keys if key is not None]

    async def stop(self) -> int:
        """SIGTERM (graceful shutdown), then SIGKILL after ``STOP_TIMEOUT_S``."""
        started = trio.current_time()
        if self.process.returncode is None:
            self.process.send_signal(signal.SIGTERM)
        with trio.move_on_after(STOP_TIMEOUT_S):
            code = await self.process.wait()
            self.stop_s = round(trio.current_time() - started, 2)
            return code
        self.process.kill()
        await self.process.wait()
        tail = "\n".join(list(self.log)[-20:])
        raise BenchError(f"the server ignored SIGTERM for {STOP_TIMEOUT_S:.0f} s\n{tail}")


@asynccontextmanager
async def balto_server(settings: ServerSettings) -> AsyncIterator[BaltoServer]:
    """``balto serve`` on 127.0.0.1, port 0, a temp database; stopped on exit."""
    with tempfile.TemporaryDirectory(prefix="balto-bench-") as tmp:
        db_file = Path(tmp) / "registro.db"
        admin_token = secrets.token_urlsafe(16)
        command = [sys.executable, "-m", "balto", "serve", "--host", HOST, "--port", "0"]
        process = await trio.lowlevel.open_process(
            [*command, "--db", str(db_file)],
            env=settings.env(db_file, admin_token),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        server = BaltoServer(process, db_file, admin_token)
        try:
            async with trio.open_nursery() as nursery:
                nursery.start_soon(server.read_log)
                try:
                    await server.wait_ready()
                except (trio.TooSlowError, BenchError) as exc:
                    tail = "\n".join(list(server.log)[-20:])
                    raise BenchError(f"the server did not start: {exc}\n{tail}") from exc
                yield server
                code = await server.stop()
                if code != 0:
                    tail = "\n".join(list(server.log)[-20:])
                    raise BenchError(f"the server exited with {code}\n{tail}")
        finally:
            if process.returncode is None:
                process.kill()
                with trio.CancelScope(shield=True):
                    await process.wait()
