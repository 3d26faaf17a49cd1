"""The server under test: ``balto serve`` as a subprocess on a loopback port, and its probes.

* :func:`balto_server` starts it (real whisper model, temp ``DB_FILE``, port 0 read back from
  its log), waits for ``/health`` to report the recogniser ready, and stops it with SIGTERM;
* :func:`http_request` is a one-shot h11 client (registration, ``/metrics``);
* :class:`ProcessSampler` samples the server's CPU time and RSS from ``/proc``;
* :func:`parse_metrics` / :func:`histogram_delta` read the Prometheus text.
"""

from __future__ import annotations

import collections
import dataclasses
import json
import os
import re
import secrets
import signal
import subprocess
import sys
import tempfile
from collections.abc import AsyncIterator, Iterable, Mapping
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import h11
import numpy as np
import trio
from prometheus_client.parser import text_string_to_metric_families

HOST = "127.0.0.1"
STARTUP_TIMEOUT_S = 120.0  # model load on a busy machine
STOP_TIMEOUT_S = 120.0
LOG_LINES_KEPT = 200

_LISTENING = re.compile(r"listening on \('127\.0\.0\.1', (\d+)\)")
_CLK_TCK = os.sysconf("SC_CLK_TCK")
_PAGE_BYTES = os.sysconf("SC_PAGE_SIZE")


class BenchError(RuntimeError):
    """The server or the harness did not behave: the run's numbers would mean nothing."""


# -- /proc --------------------------------------------------------------------------------


def cpu_seconds(pid: int | str = "self") -> float:
    """User + system CPU time of a process (all its threads)."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat.rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _CLK_TCK


def rss_bytes(pid: int | str = "self") -> int:
    return int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * _PAGE_BYTES


def raise_fd_limit(wanted: int) -> int:
    """Raise this process's open-file limit (children inherit it); return the new soft limit."""
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        soft = target
    return soft


@dataclasses.dataclass(frozen=True, slots=True)
class Sample:
    at: float  # trio clock
    rss: int
    cpu_s: float


class ProcessSampler:
    """Samples a process every ``interval_s`` while :meth:`run` runs (cancel it to stop)."""

    def __init__(self, pid: int, interval_s: float = 1.0) -> None:
        self.pid = pid
        self.interval_s = interval_s
        self.samples: list[Sample] = []

    def sample(self) -> Sample:
        taken = Sample(trio.current_time(), rss_bytes(self.pid), cpu_seconds(self.pid))
        self.samples.append(taken)
        return taken

    async def run(self, max_samples: int = 100_000) -> None:
        for _ in range(max_samples):
            self.sample()
            await trio.sleep(self.interval_s)

    def between(self, start: float, end: float) -> list[Sample]:
        return [s for s in self.samples if start <= s.at <= end]


def usage(first: Sample, last: Sample, during: list[Sample]) -> dict[str, float]:
    """CPU (100 = one core) and RSS over an interval."""
    wall = max(last.at - first.at, 1e-9)
    rss = [s.rss for s in during] or [last.rss]
    return {
        "cpu_percent": round(100.0 * (last.cpu_s - first.cpu_s) / wall, 1),
        "rss_mb_mean": round(float(np.mean(rss)) / 2**20, 1),
        "rss_mb_max": round(max(rss) / 2**20, 1),
    }


# -- HTTP ---------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True, slots=True)
class HttpReply:
    status: int
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


async def http_request(
    port: int,
    method: str,
    path: str,
    body: object = None,
    *,
    headers: Iterable[tuple[str, str]] = (),
    timeout_s: float = 30.0,
) -> HttpReply:
    """One request on a fresh loopback connection."""
    data = b"" if body is None else json.dumps(body).encode()
    sent = [("host", HOST), ("content-length", str(len(data))), *headers]
    if body is not None:
        sent.append(("content-type", "application/json"))
    conn = h11.Connection(h11.CLIENT)
    with trio.fail_after(timeout_s):
        stream = await trio.open_tcp_stream(HOST, port)
        async with stream:
            out = conn.send(h11.Request(method=method, target=path, headers=sent))
            out += (conn.send(h11.Data(data=data)) or b"") if data else b""
            out += conn.send(h11.EndOfMessage()) or b""
            await stream.send_all(out or b"")
            status = 0
            chunks: list[bytes] = []
            for _ in range(100_000):
                event = conn.next_event()
                if event is h11.NEED_DATA:
                    conn.receive_data(await stream.receive_some(65536))
                elif isinstance(event, h11.Response):
                    status = event.status_code
                elif isinstance(event, h11.Data):
                    chunks.append(bytes(event.data))
                elif isinstance(event, h11.EndOfMessage | h11.ConnectionClosed):
                    break
    return HttpReply(status, b"".join(chunks))


# -- Prometheus text ----------------------------------------------------------------------

Metrics = dict[str, float]  # "name{label=value,...}" → value


def parse_metrics(text: str) -> Metrics:
    values: Metrics = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            labels = ",".join(f"{k}={v}" for k, v in sorted(sample.labels.items()))
            values[f"{sample.name}{{{labels}}}"] = sample.value
    return values


def metric(values: Metrics, name: str, **labels: str) -> float:
    key = ",".join(f"{k}={v}" for k, v in sorted(labels.items()))
    return values.get(f"{name}{{{key}}}", 0.0)


def metric_sum(values: Metrics, name: str) -> float:
    """Sum over every label set of ``name``."""
    return sum(v for k, v in values.items() if k.startswith(name + "{"))


def histogram_delta(before: Metrics, after: Metrics, name: str) -> dict[str, Any]:
    """The observations of histogram ``name`` between two scrapes, with estimated quantiles."""
    prefix = f"{name}_bucket{{le="
    keys = sorted((float(key[len(prefix) : -1]), key) for key in after if key.startswith(prefix))
    bounds = [bound for bound, _ in keys]
    counts = [after[key] - before.get(key, 0.0) for _, key in keys]
    count = metric(after, f"{name}_count") - metric(before, f"{name}_count")
    total = metric(after, f"{name}_sum") - metric(before, f"{name}_sum")
    buckets = {
        ("+Inf" if b == float("inf") else f"{b:g}"): int(c)
        for b, c in zip(bounds, counts, strict=True)
    }
    result: dict[str, Any] = {
        "count": int(count),
        "mean_s": round(total / count, 3) if count else None,
    }
    for key, q in (("p50_s", 0.50), ("p95_s", 0.95)):
        value = _bucket_quantile(bounds, counts, q)
        if value == float("inf"):  # beyond the last finite bucket: only a lower bound is known
            result[key] = None
            result[key.replace("_s", "_above_s")] = bounds[-2] if len(bounds) > 1 else None
        else:
            result[key] = value
    result["buckets"] = buckets  # cumulative, like Prometheus: le → observations
    return result


def _bucket_quantile(bounds: list[float], cumulative: list[float], q: float) -> float | None:
    """``histogram_quantile``: linear interpolation inside the bucket that holds the rank.
    A rank in the ``+Inf`` bucket gives ``inf``: beyond the buckets."""
    if not cumulative or cumulative[-1] <= 0:
        return None
    rank = q * cumulative[-1]
    lower_bound, lower_count = 0.0, 0.0
    for bound, count in zip(bounds, cumulative, strict=True):
        if count >= rank:
            if bound == float("inf"):
                return bound
            span = count - lower_count
            fraction = (rank - lower_count) / span if span else 1.0
            return round(lower_bound + (bound - lower_bound) * fraction, 3)
        lower_bound, lower_count = bound, count
    return None


# -- the server process -------------------------------------------------------------------


@dataclasses.dataclass(frozen=True, slots=True)
class ServerSettings:
    model_path: Path
    asr_workers: int = 1
    asr_threads_per_worker: int = 2
    cooldown_s: float = 10.0  # RECOMMENDATION_COOLDOWN_S; see bench/server.py
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
