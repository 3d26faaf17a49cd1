"""No growth: one longer run, delay and RSS per window, and whether either trends upwards."""

from __future__ import annotations

from typing import Any

import numpy as np

from bench.server.audio import LoopBank
from bench.server.clients import (
    MISS_AFTER_S,
    Counter,
    percentiles,
)
from bench.server.markdown import num
from bench.server.measure import measure_counters
from bench.server.probes import (
    ProcessSampler,
)
from bench.server.process import balto_server
from bench.server.settings import BenchSettings, Progress


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
    windows = [_window(index, counters, sampler, talk_started, window_s) for index in range(count)]
    trend = growth_verdict(windows, sampler, talk_started, window_s)
    p95 = run["delay_s"]["p95"]
    dropped = run["audio_dropped_s"]
    trend["overloaded"] = (
        p95 is None or p95 > settings.capacity_p95_s or dropped is None or dropped > 0
    )
    if trend["overloaded"]:
        trend["verdict"] += f" — the server was overloaded ({n} counters, p95 {num(p95)} s)"
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


def _window(
    index: int,
    counters: list[Counter],
    sampler: ProcessSampler,
    talk_started: float,
    window_s: float,
) -> dict[str, Any]:
    """Complaints that ended in window ``index``: misses, delays, server RSS and CPU."""
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
    return {
        "window": index,
        "from_s": round(index * window_s, 1),
        "complaints": len(ended),
        "misses": sum(1 for s in ended if s.delay_s is None or s.delay_s > MISS_AFTER_S),
        "delay_s": percentiles(delays),
        "rss_mb_mean": round(float(np.mean(rss)), 1) if rss else None,
        "rss_mb_last": round(rss[-1], 1) if rss else None,
        "cpu_percent": round(cpu, 1) if cpu is not None else None,
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
