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
PLOT_FILE = RESULTS_FILE.with_name("latencia.png")
PARTS = ("latency", "growth", "capacity", "idle")
VOICE_MODELS = ("natural", "robo")  # two people in natural voices; the old espeak-ng loop
DEFAULT_SNR_DB = {"natural": 20.0, "robo": 30.0}


@dataclasses.dataclass(frozen=True)
class BenchSettings:
    parts: tuple[str, ...] = PARTS
    # server
    asr_workers: int = 0  # 0: the server's default, one per ASR_THREADS_PER_WORKER cores
    asr_threads_per_worker: int = 1
    cooldown_s: float = 10.0
    model_path: Path | None = None  # default: BALTO_MODEL or the converted "base"
    # audio: the load model
    voice_model: str = "natural"  # one of VOICE_MODELS
    talk_fraction: float = 1 / 3  # speech of both people / stream (natural model)
    turn_pause_s: float = 1.2  # customer → attendant pause, ±30% (natural model)
    snr_db: float | None = None  # shop noise; None: DEFAULT_SNR_DB of the voice model
    # latency
    counters: tuple[int, ...] = (1, 2, 4, 8)
    # talking time of one latency or capacity run: a counter of the natural model says a
    # complaint every ~20 s, so 60 s gives ~3 per counter (the robot loop: ~8)
    run_s: float = 60.0
    drain_s: float = MISS_AFTER_S + 1.0  # noise streamed after the last sentence
    # growth
    growth_s: float = 180.0
    growth_counters: int = 4
    window_s: float = 60.0
    # capacity
    capacity_ladder: tuple[int, ...] = (4, 8, 12, 16, 20, 24, 32, 48, 64)
    capacity_p95_s: float = 1.5
    capacity_max_runs: int = 3  # new runs; latency runs of the same length are reused
    # idle
    idle_sockets: int = 1000
    idle_hold_s: float = 3.0
    # latency vs counters plot; None: none
    plot_file: Path | None = PLOT_FILE

    @classmethod
    def preset(cls, *, quick: bool = False, duration_scale: float = 1.0) -> BenchSettings:
        base = cls.quick() if quick else cls()
        return base.scaled(duration_scale)

    @classmethod
    def quick(cls) -> BenchSettings:
        return cls(
            counters=(1, 2),
            run_s=30.0,
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

    @property
    def noise_snr_db(self) -> float:
        if self.voice_model not in VOICE_MODELS:
            raise ValueError(f"unknown voice model {self.voice_model!r}; use one of {VOICE_MODELS}")
        return DEFAULT_SNR_DB[self.voice_model] if self.snr_db is None else self.snr_db

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
    return resolve_model(
        config.model_path,
        config.model_size,
        config.cache_dir,
        weights=config.model_weights,
        progress=True,
    )
