"""Latency (1, 2, 4, 8 counters) and capacity (the most counters that hold), on one server."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Awaitable, Callable
from typing import Any

from bench.server.audio import LoopBank
from bench.server.measure import brief, holds, measure_counters, settle
from bench.server.process import balto_server
from bench.server.settings import BenchSettings, Progress


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
            progress(f"  {n} counter(s): {brief(run)}; {run['wall_s']:.0f} s")
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


HoldsAt = Callable[[int], Awaitable[bool | None]]


@dataclasses.dataclass(slots=True)
class Bounds:
    """The capacity search so far: the largest N that held, the smallest that failed."""

    passed: int = 0
    failed: int | None = None
    exhausted: bool = False  # the run budget ran out

    @property
    def tight(self) -> bool:
        return self.failed is None or self.failed - self.passed <= 1


async def search_capacity(
    settings: BenchSettings,
    known: dict[int, dict[str, Any]],
    measure: Callable[[int, str], Awaitable[dict[str, Any]]],
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

    bounds = await _climb(sorted(settings.capacity_ladder), holds_at)
    if bounds.failed is not None and bounds.passed == 0:
        # the first rung failed: start from smaller runs
        bounds.passed = max(
            (n for n, r in known.items() if n < bounds.failed and r["holds"]), default=0
        )
    await _bisect(bounds, holds_at)
    return _capacity_record(settings, known, bounds)


async def _climb(ladder: list[int], holds_at: HoldsAt) -> Bounds:
    bounds = Bounds()
    for n in ladder:
        verdict = await holds_at(n)
        if verdict is None:
            bounds.exhausted = True
            break
        if not verdict:
            bounds.failed = n
            break
        bounds.passed = n
    return bounds


async def _bisect(bounds: Bounds, holds_at: HoldsAt) -> None:
    for _ in range(16):
        if bounds.exhausted or bounds.failed is None or bounds.tight:
            return
        middle = (bounds.passed + bounds.failed) // 2
        verdict = await holds_at(middle)
        if verdict is None:
            bounds.exhausted = True
        elif verdict:
            bounds.passed = middle
        else:
            bounds.failed = middle


def _capacity_record(
    settings: BenchSettings, known: dict[int, dict[str, Any]], bounds: Bounds
) -> dict[str, Any]:
    passed, failed = bounds.passed, bounds.failed
    # The machine's load can change between runs: say so when the results disagree.
    non_monotonic = any(
        (n < passed and not r["holds"]) or (failed is not None and n > failed and r["holds"])
        for n, r in known.items()
    )
    return {
        "p95_limit_s": settings.capacity_p95_s,
        "criterion": "p95 ≤ limit, no speech dropped, no client errors, client on time",
        "counters": passed,
        "first_failing": failed,
        "exact": failed is not None and failed - passed == 1,
        "stopped_by_run_budget": bounds.exhausted,
        "non_monotonic": non_monotonic,
        "trials": [
            {
                "counters": n,
                "holds": r["holds"],
                "p50_s": r["delay_s"]["p50"],
                "p95_s": r["delay_s"]["p95"],
                "complaints": r["complaints"],
                "miss_rate": r["miss_rate"],
                "audio_dropped_s": r["audio_dropped_s"],
                "cpu_percent": r["server"]["cpu_percent"],
                "asr_cpu_per_speech_s": r.get("asr_cpu_per_speech_s"),
            }
            for n, r in sorted(known.items())
        ],
    }
