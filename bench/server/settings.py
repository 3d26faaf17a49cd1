"""What the server benchmark runs: which parts, how many counters, for how long."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import Any

from balto.counter.config import CounterConfig
from bench.server.clients import (
    MISS_AFTER_S,
)
from bench.server.process import ServerSettings

Progress = Callable[[str], None]
RESULTS_FILE = Path(__file__).resolve().parents[1] / "results" / "server.json"
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
    from balto.counter.asr.model_cache import resolve_model

    config = CounterConfig.from_env()
    return resolve_model(config.model_path, config.model_size, config.cache_dir, progress=True)
