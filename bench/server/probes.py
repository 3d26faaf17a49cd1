"""Probes of the server under test: its CPU and memory from ``/proc``, a one-shot HTTP client,
and its Prometheus ``/metrics`` text.

* :class:`ProcessSampler` samples a process's CPU time and RSS;
* :func:`http_request` is a one-shot h11 client (registration, ``/metrics``);
* :func:`parse_metrics` / :func:`histogram_delta` read the Prometheus text.
"""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import h11
import numpy as np
import trio
from prometheus_client.parser import text_string_to_metric_families

HOST = "127.0.0.1"
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
