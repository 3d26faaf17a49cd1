"""Runs the parts of the server benchmark in order and gathers the results."""

from __future__ import annotations

import dataclasses
import os
import platform
import time
from pathlib import Path
from typing import Any

import trio

import balto
from balto.counter.config import CounterConfig
from bench.counters import FRAME_S
from bench.server.audio import LoopBank, robot_bank
from bench.server.capacity import latency_and_capacity
from bench.server.clients import (
    MISS_AFTER_S,
)
from bench.server.dialogue import dialogue_bank
from bench.server.growth import growth
from bench.server.idle import idle
from bench.server.plot import plot_latency
from bench.server.settings import PARTS, BenchSettings, Progress


async def _run_async(settings: BenchSettings, progress: Progress) -> dict[str, Any]:
    unknown = set(settings.parts) - set(PARTS)
    if unknown:
        raise ValueError(f"unknown parts: {sorted(unknown)}")
    started = time.monotonic()
    results: dict[str, Any] = {"meta": _meta(settings)}
    loops: LoopBank | None = None
    if {"latency", "growth", "capacity"} & set(settings.parts):
        loops = load_model(settings, progress)
    if loops is not None and {"latency", "capacity"} & set(settings.parts):
        results.update(await latency_and_capacity(settings, loops, progress))
        if settings.plot_file is not None:
            plotted = plot_latency(results, settings.plot_file)
            results["meta"]["plot"] = None if plotted is None else str(plotted)
            if plotted is None:
                progress("no plot: matplotlib is not installed (pip install -e '.[bench]')")
    if loops is not None and "growth" in settings.parts:
        results["growth"] = await growth(settings, loops, progress)
    if loops is not None:
        results["meta"]["load"] = loops.summary()
        results["meta"]["sentences"] = results["meta"]["load"].pop("sentences")
    if "idle" in settings.parts:
        results["idle"] = await idle(settings, progress)
    results["meta"]["loadavg_end"] = [round(x, 2) for x in os.getloadavg()]
    results["meta"]["wall_s"] = round(time.monotonic() - started, 1)
    return results


def load_model(settings: BenchSettings, progress: Progress) -> LoopBank:
    """The counters' loops: two people in natural voices (default), or the old robot loop."""
    if settings.voice_model == "robo":
        return robot_bank(settings.noise_snr_db, progress)
    return dialogue_bank(
        progress,
        talk_fraction=settings.talk_fraction,
        snr_db=settings.noise_snr_db,
        turn_pause_s=settings.turn_pause_s,
    )


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
        # the count the server runs (ASR_WORKERS=0: one per ASR_THREADS_PER_WORKER cores)
        "asr_workers": CounterConfig(
            asr_workers=server.asr_workers, asr_threads_per_worker=server.asr_threads_per_worker
        ).asr_worker_count,
        "asr_threads_per_worker": server.asr_threads_per_worker,
        "recommendation_cooldown_s": server.cooldown_s,
        "frame_s": FRAME_S,
        "voice_model": settings.voice_model,
        "snr_db": settings.noise_snr_db,
        "miss_after_s": MISS_AFTER_S,
        "settings": {
            k: (str(v) if isinstance(v, Path) else v)
            for k, v in dataclasses.asdict(settings).items()
        },
    }
