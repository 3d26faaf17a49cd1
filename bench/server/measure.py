"""One run of N real-time counters against the server: delays, misses, server usage, whisper
metrics; and the capacity criterion."""

from __future__ import annotations

import math
import resource
import time
from typing import Any

import trio

from bench.server.audio import LoopBank
from bench.server.clients import (
    Counter,
    run_counters,
    summarize,
)
from bench.server.markdown import num, pct
from bench.server.probes import (
    Metrics,
    ProcessSampler,
    histogram_delta,
    metric,
    metric_sum,
    usage,
)
from bench.server.process import BaltoServer
from bench.server.settings import Progress


async def measure_counters(
    server: BaltoServer,
    api_keys: list[str],
    loops: LoopBank,
    *,
    talk_s: float,
    drain_s: float,
    progress: Progress,
    label: str,
    sampler_interval_s: float = 1.0,
) -> tuple[dict[str, Any], list[Counter], ProcessSampler]:
    """N counters against ``server``: delays, misses, server usage and whisper metrics."""
    n = len(api_keys)
    for counter in range(n):
        loops.for_counter(counter)  # build the audio before the clock starts
    before = await server.metrics()
    sampler = ProcessSampler(server.pid, sampler_interval_s)
    started = time.monotonic()
    cpu_before = resource.getrusage(resource.RUSAGE_SELF)
    async with trio.open_nursery() as nursery:
        nursery.start_soon(sampler.run)
        nursery.start_soon(_ticker, progress, label, talk_s, sampler)
        first = sampler.sample()
        counters, talk_started = await run_counters(
            server.ws_url, api_keys, loops, talk_s=talk_s, drain_s=drain_s
        )
        last = sampler.sample()
        nursery.cancel_scope.cancel()
    wall = time.monotonic() - started
    cpu_after = resource.getrusage(resource.RUSAGE_SELF)
    after = await server.metrics()
    result = summarize(counters, talk_started=talk_started)
    client_cpu = (cpu_after.ru_utime + cpu_after.ru_stime) - (
        cpu_before.ru_utime + cpu_before.ru_stime
    )
    result = {
        "counters": n,
        "talk_s": round(talk_s, 1),
        **result,
        "server": usage(first, last, sampler.between(first.at, last.at)),
        "client_cpu_percent": round(100 * client_cpu / wall, 1),
        **server_counts(before, after),
    }
    return result, counters, sampler


def server_counts(before: Metrics, after: Metrics) -> dict[str, Any]:
    """What the server's ``/metrics`` say happened between two scrapes."""

    def grew(name: str) -> float:
        return metric(after, name) - metric(before, name)

    dropped_name = "balto_audio_dropped_seconds_total"
    # rounded up, so that any speech dropped at all shows (and fails the capacity criterion);
    # None when the server does not export the counter (the criterion cannot be judged)
    dropped = (
        math.ceil(grew(dropped_name) * 1000) / 1000 if f"{dropped_name}{{}}" in after else None
    )
    speech_s = grew("balto_speech_seconds_total")
    return {
        # recognition CPU per second of speech at this load (interims skipped under load
        # make it fall towards the single pass: ``make bench``'s cost part)
        "asr_cpu_per_speech_s": (
            round(grew("balto_asr_cpu_seconds_total") / speech_s, 3) if speech_s > 0 else None
        ),
        "asr_queue_lag": histogram_delta(before, after, "balto_asr_queue_lag_seconds"),
        "asr_decode": histogram_delta(before, after, "balto_asr_decode_seconds"),
        "audio_received_s": round(grew("balto_audio_received_seconds_total"), 1),
        "audio_dropped_s": dropped,
        "interims_superseded": int(grew("balto_asr_jobs_superseded_total")),
        "server_recommendations": int(
            metric_sum(after, "balto_recommendations_total")
            - metric_sum(before, "balto_recommendations_total")
        ),
    }


async def _ticker(progress: Progress, label: str, talk_s: float, sampler: ProcessSampler) -> None:
    started = trio.current_time()
    for _ in range(100_000):
        await trio.sleep(10)
        rss = sampler.samples[-1].rss / 2**20 if sampler.samples else 0.0
        elapsed = trio.current_time() - started
        progress(f"  {label}: {elapsed:4.0f} s of ~{talk_s:.0f} s talking, server RSS {rss:.0f} MB")


async def settle(server: BaltoServer, progress: Progress) -> None:
    """Between runs: every session gone and the decode in flight finished."""
    active = await server.wait_sessions(0, timeout_s=30)
    if active != 0:
        progress(f"  warning: {active:.0f} sessions still open after the run")
    await trio.sleep(2.0)  # a decode of a closed session may still be running


def holds(run: dict[str, Any], p95_limit_s: float) -> bool:
    """The capacity criterion: p95 within the limit, no speech dropped (the server's dropped
    audio counter did not grow, and it was there to read), no client errors, client on time."""
    p95 = run["delay_s"]["p95"]
    return (
        p95 is not None
        and p95 <= p95_limit_s
        and run["audio_dropped_s"] is not None
        and run["audio_dropped_s"] <= 0
        and not run["errors"]
        and run["client_send_lag_max_s"] < 1.0
    )


def brief(run: dict[str, Any]) -> str:
    d = run["delay_s"]
    miss = run["miss_rate"]
    return (
        f"p50 {num(d['p50'])} s, p95 {num(d['p95'])} s, max {num(d['max'])} s"
        f" (n={d['n']}), miss {pct(miss)}, false {pct(run['false_rate'])},"
        f" CPU {run['server']['cpu_percent']:.0f} %, RSS {run['server']['rss_mb_max']:.0f} MB,"
        f" dropped {run['audio_dropped_s']} s"
    )
