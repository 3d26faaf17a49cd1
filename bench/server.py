"""Server benchmark: the real ``balto serve`` (real whisper.cpp) under counters over loopback.

Parts (``balto serve`` subprocesses on free loopback ports with temp databases; latency and
capacity share one server, growth and idle get their own):

* ``latency``  — end of speech → ``recomendar`` delay (p50/p95/max), misses and false
  recommendations, server CPU/RSS and the whisper queue lag, for 1, 2, 4 and 8 counters
  talking in real time (espeak-ng Portuguese, 1–3 s gaps, light shop noise);
* ``growth``   — one longer run (default 3 min, 4 counters): delay and RSS per minute, and
  whether either trends upwards;
* ``capacity`` — the most real-time counters this machine holds with p95 ≤ 2 s and no audio
  dropped (climbs 4, 8, 12, 16…, stops at the first failure, then bisects);
* ``idle``     — server memory per authenticated idle socket, with 1,000 of them open
  (``MAX_CONNECTIONS_PER_ADDRESS`` raised for it, open-file limit raised for both sides).

Run ``python -m bench.server`` (``--help`` for the knobs). Markdown goes to stdout, JSON to
``bench/results/server.json``. Timings depend on how busy the machine is: the JSON records the
load average before and after.

The server runs with ``RECOMMENDATION_COOLDOWN_S=10`` (default 60): each counter repeats its
loop of complaints every ~45 s and one recommendation per complaint is what is measured; 10 s
still covers the interim and final decodes of one utterance.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import platform
import resource
import sys
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import trio

import balto
from balto.counter.config import CounterConfig
from bench.load_audio import FRAME_S, LoopBank, synthesize_sentences
from bench.load_counters import (
    MISS_AFTER_S,
    IdleResult,
    hold_idle_sockets,
    percentiles,
    run_counters,
    summarize,
)
from bench.load_server import (
    BaltoServer,
    BenchError,
    ProcessSampler,
    ServerSettings,
    balto_server,
    histogram_delta,
    metric,
    metric_sum,
    raise_fd_limit,
    usage,
)

Progress = Callable[[str], None]
RESULTS_FILE = Path(__file__).resolve().parent / "results" / "server.json"
PARTS = ("latency", "growth", "capacity", "idle")


@dataclasses.dataclass(frozen=True)
class BenchSettings:
    parts: tuple[str, ...] = PARTS
    # server
    asr_workers: int = 1
    asr_threads_per_worker: int = 2
    cooldown_s: float = 10.0
    model_path: Path | None = None  # default: BALTO_MODEL or the converted "base"
    # audio
    snr_db: float = 30.0
    # latency
    counters: tuple[int, ...] = (1, 2, 4, 8)
    run_s: float = 30.0  # talking time of one latency or capacity run
    drain_s: float = MISS_AFTER_S + 1.0  # noise streamed after the last sentence
    # growth
    growth_s: float = 180.0
    growth_counters: int = 4
    window_s: float = 60.0
    # capacity
    capacity_ladder: tuple[int, ...] = (4, 8, 12, 16, 20, 24, 32, 48, 64)
    capacity_p95_s: float = 2.0
    capacity_max_runs: int = 3  # new runs; latency runs of the same length are reused
    # idle
    idle_sockets: int = 1000
    idle_hold_s: float = 3.0

    @classmethod
    def preset(cls, *, quick: bool = False, duration_scale: float = 1.0) -> BenchSettings:
        base = cls.quick() if quick else cls()
        return base.scaled(duration_scale)

    @classmethod
    def quick(cls) -> BenchSettings:
        return cls(
            counters=(1, 2),
            run_s=12.0,
            growth_s=36.0,
            growth_counters=2,
            window_s=12.0,
            capacity_ladder=(2, 4, 8),
            capacity_max_runs=1,
            idle_sockets=200,
            idle_hold_s=1.0,
        )

    def scaled(self, factor: float) -> BenchSettings:
        if factor <= 0:
            raise ValueError("duration_scale must be positive")
        return dataclasses.replace(
            self,
            run_s=self.run_s * factor,
            growth_s=self.growth_s * factor,
            window_s=min(self.window_s, self.growth_s * factor / 3),
        )

    def server(self, **changes: Any) -> ServerSettings:
        settings = ServerSettings(
            model_path=self.model_path or default_model(),
            asr_workers=self.asr_workers,
            asr_threads_per_worker=self.asr_threads_per_worker,
            cooldown_s=self.cooldown_s,
        )
        return dataclasses.replace(settings, **changes)


def default_model() -> Path:
    from balto.counter.asr.models import resolve_model

    config = CounterConfig.from_env()
    return resolve_model(config.model_path, config.model_size, config.cache_dir, progress=True)


# -- one run of N counters ----------------------------------------------------------------


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
) -> tuple[dict[str, Any], Any, ProcessSampler]:
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
        "asr_queue_lag": histogram_delta(before, after, "balto_asr_queue_lag_seconds"),
        "asr_decode": histogram_delta(before, after, "balto_asr_decode_seconds"),
        "audio_received_s": round(
            metric(after, "balto_audio_received_seconds_total")
            - metric(before, "balto_audio_received_seconds_total"),
            1,
        ),
        "audio_dropped_s": round(
            metric(after, "balto_audio_dropped_seconds_total")
            - metric(before, "balto_audio_dropped_seconds_total"),
            2,
        ),
        "interims_superseded": int(
            metric(after, "balto_asr_jobs_superseded_total")
            - metric(before, "balto_asr_jobs_superseded_total")
        ),
        "server_recommendations": int(
            metric_sum(after, "balto_recommendations_total")
            - metric_sum(before, "balto_recommendations_total")
        ),
    }
    return result, counters, sampler


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
    """The capacity criterion: p95 within the limit, no audio dropped, no client errors."""
    p95 = run["delay_s"]["p95"]
    return (
        p95 is not None
        and p95 <= p95_limit_s
        and run["audio_dropped_s"] == 0
        and not run["errors"]
        and run["client_send_lag_max_s"] < 1.0
    )


def _brief(run: dict[str, Any]) -> str:
    d = run["delay_s"]
    miss = run["miss_rate"]
    return (
        f"p50 {_num(d['p50'])} s, p95 {_num(d['p95'])} s, max {_num(d['max'])} s"
        f" (n={d['n']}), miss {_pct(miss)}, false {_pct(run['false_rate'])},"
        f" CPU {run['server']['cpu_percent']:.0f} %, RSS {run['server']['rss_mb_max']:.0f} MB,"
        f" dropped {run['audio_dropped_s']} s"
    )


# -- the parts ----------------------------------------------------------------------------


async def latency_and_capacity(
    settings: BenchSettings, loops: LoopBank, progress: Progress
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    parts = settings.parts
    wanted = sorted(set(settings.counters)) if "latency" in parts else []
    most = max([*wanted, *settings.capacity_ladder]) if "capacity" in parts else max(wanted)
    async with balto_server(settings.server()) as server:
        progress(f"server pid {server.pid} on port {server.port}; registering {most} counters")
        keys = await server.register(most)
        runs: dict[int, dict[str, Any]] = {}

        async def measure(n: int, part: str) -> dict[str, Any]:
            if n in runs:
                return runs[n]
            progress(f"[{part}] {n} counter(s), {settings.run_s:.0f} s")
            started = time.monotonic()
            run, _, _ = await measure_counters(
                server,
                keys[:n],
                loops,
                talk_s=settings.run_s,
                drain_s=settings.drain_s,
                progress=progress,
                label=f"{n} counter(s)",
            )
            run["holds"] = holds(run, settings.capacity_p95_s)
            runs[n] = run
            await settle(server, progress)
            run["wall_s"] = round(time.monotonic() - started, 1)
            progress(f"  {n} counter(s): {_brief(run)}; {run['wall_s']:.0f} s")
            return run

        for n in wanted:
            await measure(n, "latency")
        if wanted:
            out["latency"] = {"runs": [runs[n] for n in wanted]}
        if "capacity" in parts:
            out["capacity"] = await search_capacity(settings, runs, measure)
        out["server_warnings"] = server.warnings[-20:]
    out["server_stop_s"] = server.stop_s
    return out


async def search_capacity(
    settings: BenchSettings,
    known: dict[int, dict[str, Any]],
    measure: Callable[[int, str], Any],
) -> dict[str, Any]:
    """Climb the ladder to the first failing N, then bisect below it; reuse runs already made
    (the latency runs). ``capacity_max_runs`` bounds the new runs."""
    budget = [settings.capacity_max_runs]

    async def holds_at(n: int) -> bool | None:
        if n not in known:
            if budget[0] <= 0:
                return None
            budget[0] -= 1
        run = await measure(n, "capacity")
        return bool(run["holds"])

    passed, failed = 0, None
    exhausted = False
    for n in sorted(settings.capacity_ladder):
        verdict = await holds_at(n)
        if verdict is None:
            exhausted = True
            break
        if not verdict:
            failed = n
            break
        passed = n
    if failed is not None and passed == 0:  # the first rung failed: start from smaller runs
        passed = max((n for n, r in known.items() if n < failed and r["holds"]), default=0)
    for _ in range(16):
        if exhausted or failed is None or failed - passed <= 1:
            break
        middle = (passed + failed) // 2
        verdict = await holds_at(middle)
        if verdict is None:
            exhausted = True
        elif verdict:
            passed = middle
        else:
            failed = middle
    # The machine's load can change between runs: say so when the results disagree.
    non_monotonic = any(
        (n < passed and not r["holds"]) or (failed is not None and n > failed and r["holds"])
        for n, r in known.items()
    )
    return {
        "p95_limit_s": settings.capacity_p95_s,
        "criterion": "p95 ≤ limit, no audio dropped, no client errors, client on time",
        "counters": passed,
        "first_failing": failed,
        "exact": failed is not None and failed - passed == 1,
        "stopped_by_run_budget": exhausted,
        "non_monotonic": non_monotonic,
        "trials": [
            {
                "counters": n,
                "holds": r["holds"],
                "p95_s": r["delay_s"]["p95"],
                "miss_rate": r["miss_rate"],
                "audio_dropped_s": r["audio_dropped_s"],
                "cpu_percent": r["server"]["cpu_percent"],
            }
            for n, r in sorted(known.items())
        ],
    }


async def growth(settings: BenchSettings, loops: LoopBank, progress: Progress) -> dict[str, Any]:
    n = settings.growth_counters
    async with balto_server(settings.server()) as server:
        keys = await server.register(n)
        progress(f"[growth] {n} counters for {settings.growth_s:.0f} s")
        run, counters, sampler = await measure_counters(
            server,
            keys,
            loops,
            talk_s=settings.growth_s,
            drain_s=settings.drain_s,
            progress=progress,
            label="growth",
            sampler_interval_s=2.0,
        )
        warnings = server.warnings[-20:]
    window_s = settings.window_s
    talk_started = min((s.started_at for c in counters for s in c.stats.spoken), default=0.0)
    count = max(1, int(np.ceil(settings.growth_s / window_s)))
    windows = []
    for index in range(count):
        lo, hi = talk_started + index * window_s, talk_started + (index + 1) * window_s
        ended = [
            s
            for c in counters
            for s in c.stats.spoken
            if s.categoria is not None and s.ended_at is not None and lo <= s.ended_at < hi
        ]
        delays = [d for s in ended if (d := s.delay_s) is not None]
        samples = sampler.between(lo, hi)
        rss = [s.rss / 2**20 for s in samples]
        cpu = (
            100 * (samples[-1].cpu_s - samples[0].cpu_s) / (samples[-1].at - samples[0].at)
            if len(samples) > 1
            else None
        )
        windows.append(
            {
                "window": index,
                "from_s": round(index * window_s, 1),
                "complaints": len(ended),
                "misses": sum(1 for s in ended if s.delay_s is None or s.delay_s > MISS_AFTER_S),
                "delay_s": percentiles(delays),
                "rss_mb_mean": round(float(np.mean(rss)), 1) if rss else None,
                "rss_mb_last": round(rss[-1], 1) if rss else None,
                "cpu_percent": round(cpu, 1) if cpu is not None else None,
            }
        )
    trend = growth_verdict(windows, sampler, talk_started, window_s)
    p95 = run["delay_s"]["p95"]
    trend["overloaded"] = p95 is None or p95 > settings.capacity_p95_s or run["audio_dropped_s"] > 0
    if trend["overloaded"]:
        trend["verdict"] += f" — the server was overloaded ({n} counters, p95 {_num(p95)} s)"
    progress(f"  growth: {trend['verdict']}")
    return {
        "counters": n,
        "duration_s": settings.growth_s,
        "window_s": window_s,
        "overall": {k: run[k] for k in ("delay_s", "miss_rate", "false_rate", "audio_dropped_s")},
        "server": run["server"],
        "asr_queue_lag": run["asr_queue_lag"],
        "windows": windows,
        "rss_mb_series": [  # (seconds since talk started, MB), every ~10 s
            (round(x.at - talk_started), round(x.rss / 2**20, 1)) for x in sampler.samples[::5]
        ],
        "trend": trend,
        "server_warnings": warnings,
        "server_stop_s": server.stop_s,
    }


RSS_SLOPE_LIMIT_MB_PER_MIN = 2.0
P95_SLOPE_LIMIT_S_PER_MIN = 0.25
# Each streaming session's 30 s ring buffer (RING_BUFFER_S) is touched page by page during its
# first 30 s, and whisper's buffers grow to the longest utterance: RSS before this is warm-up.
RSS_WARM_UP_S = 45.0
RSS_MIN_SPAN_S = 30.0


def growth_verdict(
    windows: list[dict[str, Any]], sampler: ProcessSampler, talk_started: float, window_s: float
) -> dict[str, Any]:
    """Least-squares slopes of per-window p95 and of RSS (after the warm-up)."""
    points = [(w["from_s"] / 60, w["delay_s"]["p95"]) for w in windows if w["delay_s"]["p95"]]
    p95_slope = (
        float(np.polyfit([x for x, _ in points], [y for _, y in points], 1)[0])
        if len(points) >= 2
        else None
    )
    warm_up_s = max(window_s, RSS_WARM_UP_S)
    warm = [s for s in sampler.samples if s.at >= talk_started + warm_up_s]
    rss_slope = (
        float(
            np.polyfit(
                [(s.at - talk_started) / 60 for s in warm], [s.rss / 2**20 for s in warm], 1
            )[0]
        )
        if len(warm) >= 3 and warm[-1].at - warm[0].at >= RSS_MIN_SPAN_S
        else None
    )
    problems = []
    if rss_slope is not None and rss_slope > RSS_SLOPE_LIMIT_MB_PER_MIN:
        problems.append(f"RSS grows {rss_slope:+.1f} MB/min")
    if p95_slope is not None and p95_slope > P95_SLOPE_LIMIT_S_PER_MIN:
        problems.append(f"p95 grows {p95_slope:+.2f} s/min")
    if p95_slope is None or rss_slope is None:
        verdict = "inconclusive (too few windows)"
    elif problems:
        verdict = "GROWTH: " + ", ".join(problems)
    else:
        verdict = f"flat (RSS {rss_slope:+.1f} MB/min, p95 {p95_slope:+.2f} s/min)"
    return {
        "p95_slope_s_per_min": None if p95_slope is None else round(p95_slope, 3),
        "rss_slope_mb_per_min": None if rss_slope is None else round(rss_slope, 2),
        "limits": {
            "p95_s_per_min": P95_SLOPE_LIMIT_S_PER_MIN,
            "rss_mb_per_min": RSS_SLOPE_LIMIT_MB_PER_MIN,
        },
        "rss_warm_up_s": warm_up_s,
        "verdict": verdict,
    }


async def idle(settings: BenchSettings, progress: Progress) -> dict[str, Any]:
    n = settings.idle_sockets
    raise_fd_limit(2 * n + 1024)  # the server subprocess inherits it
    server_settings = settings.server(
        max_connections=max(4096, n + 256), max_connections_per_address=n + 256
    )
    async with balto_server(server_settings) as server:
        progress(f"[idle] registering {n} counters")
        started = trio.current_time()
        keys = await server.register(n)
        registration_s = trio.current_time() - started
        await trio.sleep(1.0)
        sampler = ProcessSampler(server.pid)
        before = _steady_rss(sampler)
        progress(f"[idle] opening {n} authenticated sockets")
        all_open, release = trio.Event(), trio.Event()
        held = IdleResult()
        async with trio.open_nursery() as nursery:
            nursery.start_soon(
                partial(hold_idle_sockets, server.ws_url, keys, held, all_open, release)
            )
            with trio.move_on_after(120):
                await all_open.wait()
            sessions = await server.wait_sessions(n, timeout_s=10)
            await trio.sleep(settings.idle_hold_s)
            during = _steady_rss(sampler)
            release.set()
        await server.wait_sessions(0, timeout_s=30)
        await trio.sleep(1.0)
        after_close = _steady_rss(sampler)
        warnings = server.warnings[-20:]
    per_socket = (during - before) / max(1, held.opened)
    out = {
        "sockets": n,
        "opened": held.opened,
        "failed": len(held.failed),
        "failures": held.failed[:10],
        "dropped_while_held": held.dropped,
        "close_errors": held.close_errors,
        "server_sessions_seen": int(sessions),
        "rss_mb_before": round(before / 2**20, 1),
        "rss_mb_open": round(during / 2**20, 1),
        "rss_mb_after_close": round(after_close / 2**20, 1),
        "kib_per_socket": round(per_socket / 1024, 1),
        "connect_auth_ms": {
            k: (None if v is None else round(v * 1000, 1) if k != "n" else v)
            for k, v in percentiles(held.connect_s).items()
        },
        "registrations_per_s": round(n / registration_s, 1),
        "server_warnings": warnings,
        "server_stop_s": server.stop_s,
    }
    progress(
        f"  idle: {held.opened}/{n} open, {out['kib_per_socket']} KiB per socket"
        f" (RSS {out['rss_mb_before']} → {out['rss_mb_open']} MB)"
    )
    return out


def _steady_rss(sampler: ProcessSampler) -> int:
    """The median of a few immediate samples (RSS moves a little between reads)."""
    return int(np.median([sampler.sample().rss for _ in range(5)]))


# -- entry points -------------------------------------------------------------------------


async def _run_async(settings: BenchSettings, progress: Progress) -> dict[str, Any]:
    unknown = set(settings.parts) - set(PARTS)
    if unknown:
        raise ValueError(f"unknown parts: {sorted(unknown)}")
    started = time.monotonic()
    results: dict[str, Any] = {"meta": _meta(settings)}
    loops: LoopBank | None = None
    if {"latency", "growth", "capacity"} & set(settings.parts):
        sentences = synthesize_sentences(progress)
        loops = LoopBank(sentences, snr_db=settings.snr_db)
        results["meta"]["sentences"] = [
            {"text": s.text, "categoria": s.categoria, "seconds": round(len(s.audio) / 16000, 2)}
            for s in sentences
        ]
    if loops is not None and {"latency", "capacity"} & set(settings.parts):
        results.update(await latency_and_capacity(settings, loops, progress))
    if loops is not None and "growth" in settings.parts:
        results["growth"] = await growth(settings, loops, progress)
    if "idle" in settings.parts:
        results["idle"] = await idle(settings, progress)
    results["meta"]["loadavg_end"] = [round(x, 2) for x in os.getloadavg()]
    results["meta"]["wall_s"] = round(time.monotonic() - started, 1)
    return results


def run(
    *,
    quick: bool = False,
    duration_scale: float = 1.0,
    progress: Progress = print,
    settings: BenchSettings | None = None,
) -> dict[str, Any]:
    """Run the server benchmark; ``settings`` (when given) replaces the quick/scale preset."""
    chosen = settings or BenchSettings.preset(quick=quick, duration_scale=duration_scale)
    results = trio.run(_run_async, chosen, progress)
    results["meta"]["quick"] = quick
    results["meta"]["duration_scale"] = duration_scale
    return results


def _meta(settings: BenchSettings) -> dict[str, Any]:
    server = settings.server()
    return {
        "balto": balto.__version__,
        "python": platform.python_version(),
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        "loadavg_start": [round(x, 2) for x in os.getloadavg()],
        "model": str(server.model_path),
        "asr_workers": server.asr_workers,
        "asr_threads_per_worker": server.asr_threads_per_worker,
        "recommendation_cooldown_s": server.cooldown_s,
        "frame_s": FRAME_S,
        "snr_db": settings.snr_db,
        "miss_after_s": MISS_AFTER_S,
        "settings": {
            k: (str(v) if isinstance(v, Path) else v)
            for k, v in dataclasses.asdict(settings).items()
        },
    }


# -- Markdown -----------------------------------------------------------------------------


def _num(value: float | None, digits: int = 2) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def _quantile(histogram: dict[str, Any], key: str) -> str:
    above = histogram.get(key.replace("_s", "_above_s"))
    return f"> {above:g}" if above is not None else _num(histogram[key])


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{100 * value:.0f} %"


def _table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---:" for _ in header) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def markdown(results: dict[str, Any]) -> str:
    meta = results["meta"]
    out = [
        "## Server benchmark",
        "",
        f"balto {meta['balto']}, {meta['cpus']} CPUs, load average {meta['loadavg_start']}"
        f" → {meta.get('loadavg_end')}; model `{Path(meta['model']).name}`,"
        f" ASR_WORKERS={meta['asr_workers']}, ASR_THREADS_PER_WORKER="
        f"{meta['asr_threads_per_worker']}, cooldown {meta['recommendation_cooldown_s']} s,"
        f" noise SNR {meta['snr_db']} dB; wall {meta.get('wall_s')} s.",
    ]
    if "latency" in results:
        out += [
            "",
            "### End of speech → `recomendar`",
            "",
            "Delay from the send of the frame holding a complaint's last speech sample to its"
            " recommendation (negative: an interim decode fired first). Miss: no recommendation"
            f" within {meta['miss_after_s']:.0f} s. False: neutral sentences that got one."
            " Queue lag and decode: whisper pool histograms (`/metrics`; p95 estimated from"
            " the buckets).",
            "",
            _table(
                [
                    "counters",
                    "complaints",
                    "p50 s",
                    "p95 s",
                    "max s",
                    "miss",
                    "false",
                    "server CPU %",
                    "RSS MB",
                    "queue lag mean/p95 s",
                    "decode mean/p95 s",
                    "dropped s",
                ],
                [_latency_row(r) for r in results["latency"]["runs"]],
            ),
        ]
    if "growth" in results:
        g = results["growth"]
        out += [
            "",
            f"### No growth ({g['counters']} counters, {g['duration_s']:.0f} s,"
            f" {g['window_s']:.0f} s windows)",
            "",
            _table(
                ["from s", "complaints", "misses", "p50 s", "p95 s", "RSS MB", "CPU %"],
                [
                    [
                        f"{w['from_s']:.0f}",
                        str(w["complaints"]),
                        str(w["misses"]),
                        _num(w["delay_s"]["p50"]),
                        _num(w["delay_s"]["p95"]),
                        _num(w["rss_mb_mean"], 0),
                        _num(w["cpu_percent"], 0),
                    ]
                    for w in g["windows"]
                ],
            ),
            "",
            f"Verdict: **{g['trend']['verdict']}**.",
        ]
    if "capacity" in results:
        c = results["capacity"]
        exact = "" if c["exact"] else " (bounds not tight: run budget or ladder end)"
        if c["non_monotonic"]:
            exact += "; results not monotonic in N: the machine's load changed between runs"
        out += [
            "",
            f"### Capacity (p95 ≤ {c['p95_limit_s']} s, no audio dropped)",
            "",
            _table(
                ["counters", "holds", "p95 s", "miss", "dropped s", "server CPU %"],
                [
                    [
                        str(t["counters"]),
                        "yes" if t["holds"] else "no",
                        _num(t["p95_s"]),
                        _pct(t["miss_rate"]),
                        str(t["audio_dropped_s"]),
                        f"{t['cpu_percent']:.0f}",
                    ]
                    for t in c["trials"]
                ],
            ),
            "",
            f"Capacity: **{c['counters']} real-time counters**; first failing:"
            f" {c['first_failing']}{exact}.",
        ]
    if "idle" in results:
        i = results["idle"]
        ms = i["connect_auth_ms"]
        out += [
            "",
            "### Idle authenticated sockets",
            "",
            _table(
                [
                    "sockets",
                    "opened",
                    "RSS before MB",
                    "RSS open MB",
                    "RSS after close MB",
                    "KiB / socket",
                    "connect+auth p50/p95 ms",
                    "registrations/s",
                ],
                [
                    [
                        str(i["sockets"]),
                        str(i["opened"]),
                        f"{i['rss_mb_before']:.0f}",
                        f"{i['rss_mb_open']:.0f}",
                        f"{i['rss_mb_after_close']:.0f}",
                        f"{i['kib_per_socket']:.1f}",
                        f"{_num(ms['p50'], 0)}/{_num(ms['p95'], 0)}",
                        f"{i['registrations_per_s']:.0f}",
                    ]
                ],
            ),
        ]
    return "\n".join(out) + "\n"


def _latency_row(r: dict[str, Any]) -> list[str]:
    d, lag, dec = r["delay_s"], r["asr_queue_lag"], r["asr_decode"]
    return [
        str(r["counters"]),
        str(r["complaints"]),
        _num(d["p50"]),
        _num(d["p95"]),
        _num(d["max"]),
        _pct(r["miss_rate"]),
        _pct(r["false_rate"]),
        f"{r['server']['cpu_percent']:.0f}",
        f"{r['server']['rss_mb_max']:.0f}",
        f"{_num(lag['mean_s'])}/{_quantile(lag, 'p95_s')}",
        f"{_num(dec['mean_s'])}/{_quantile(dec, 'p95_s')}",
        str(r["audio_dropped_s"]),
    ]


def write_json(results: dict[str, Any], path: Path = RESULTS_FILE) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


def _counts(text: str) -> tuple[int, ...]:
    return tuple(int(x) for x in text.split(",") if x.strip())


def build_parser() -> argparse.ArgumentParser:
    d = BenchSettings()
    p = argparse.ArgumentParser(prog="python -m bench.server", description=__doc__.split("\n")[0])
    p.add_argument("parts", nargs="*", help=f"any of {', '.join(PARTS)} (default: all)")
    p.add_argument("--quick", action="store_true", help="short runs, fewer counters")
    p.add_argument("--scale", type=float, default=1.0, help="multiply every duration")
    p.add_argument("--workers", type=int, default=d.asr_workers, help="ASR_WORKERS")
    p.add_argument("--threads", type=int, default=d.asr_threads_per_worker, help="threads/worker")
    p.add_argument("--cooldown", type=float, default=d.cooldown_s, help="cooldown s")
    p.add_argument("--model", type=Path, help="a ggml model (default: BALTO_MODEL or base)")
    p.add_argument("--counters", type=_counts, help="latency counts, e.g. 1,2,4,8")
    p.add_argument("--run-s", type=float, help="talking time of one latency/capacity run")
    p.add_argument("--growth-s", type=float, help="length of the growth run")
    p.add_argument("--growth-counters", type=int, help="counters in the growth run")
    p.add_argument("--window-s", type=float, help="growth window")
    p.add_argument("--ladder", type=_counts, help="capacity ladder, e.g. 4,8,12,16")
    p.add_argument("--capacity-runs", type=int, help="new runs the capacity search may make")
    p.add_argument("--p95-limit", type=float, help="capacity criterion (s)")
    p.add_argument("--idle-sockets", type=int, help="sockets for the idle part")
    p.add_argument("--snr", type=float, help="speech-to-noise ratio of the counters' audio (dB)")
    p.add_argument("--json", type=Path, default=RESULTS_FILE, help="where the JSON goes")
    return p


def settings_from_args(args: argparse.Namespace) -> BenchSettings:
    settings = BenchSettings.preset(quick=args.quick, duration_scale=args.scale)
    changes: dict[str, Any] = {
        "asr_workers": args.workers,
        "asr_threads_per_worker": args.threads,
        "cooldown_s": args.cooldown,
        "model_path": args.model,
    }
    optional = {
        "parts": tuple(args.parts) or None,
        "counters": args.counters,
        "run_s": args.run_s,
        "growth_s": args.growth_s,
        "growth_counters": args.growth_counters,
        "window_s": args.window_s,
        "capacity_ladder": args.ladder,
        "capacity_max_runs": args.capacity_runs,
        "capacity_p95_s": args.p95_limit,
        "idle_sockets": args.idle_sockets,
        "snr_db": args.snr,
    }
    changes.update({k: v for k, v in optional.items() if v is not None})
    if args.growth_s is not None and args.window_s is None:
        changes["window_s"] = min(settings.window_s, args.growth_s / 3)
    return dataclasses.replace(settings, **changes)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    unknown = sorted(set(args.parts) - set(PARTS))
    if unknown:
        parser.error(f"unknown parts {unknown}; choose among {', '.join(PARTS)}")
    settings = settings_from_args(args)

    def progress(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    try:
        results = run(
            quick=args.quick, duration_scale=args.scale, progress=progress, settings=settings
        )
    except BenchError as exc:
        print(f"bench failed: {exc}", file=sys.stderr)
        return 1
    print(markdown(results))
    path = write_json(results, args.json)
    print(f"JSON: {path}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
