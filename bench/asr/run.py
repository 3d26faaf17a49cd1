"""The run: synthesise the utterances, start one worker per configuration, transcribe every
utterance with every configuration in rotated order for a few rounds, summarise."""

from __future__ import annotations

import dataclasses
import math
import os
import platform
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from bench.asr import machine
from bench.asr.models import default_cache_dir
from bench.asr.settings import (
    CONFIG_NAMES,
    CONFIGS,
    FASTER_WHISPER_OPTIONS,
    LANGUAGE,
    MODEL_SIZE,
    NATIVE_BUILD_SCRIPT,
    NATIVE_VENV,
    QUICK_IDS,
    REFERENCE,
    ROUNDS,
    THREADS,
    UTTERANCES,
    WARMUP_TEXT,
    BenchConfig,
    Progress,
    Utterance,
)
from bench.asr.wer import word_errors
from bench.asr.workers import (
    Unavailable,
    Worker,
    WorkerError,
    native_build_record,
    native_python,
    worker_pool,
    worker_spec,
)


@dataclasses.dataclass(slots=True)
class Tally:
    audio_s: float = 0.0
    wall_s: float = 0.0
    cpu_s: float = 0.0
    errors: int = 0
    words: int = 0
    runs: list[dict[str, Any]] = dataclasses.field(default_factory=list)


@dataclasses.dataclass(frozen=True, slots=True)
class AudioSet:
    """The synthesised utterances on disk (``.npy``), their lengths, and the warm-up clip."""

    files: dict[str, Path]
    durations: dict[str, float]
    warmup: Path

    @property
    def total_s(self) -> float:
        return sum(self.durations.values())


@dataclasses.dataclass(slots=True)
class Session:
    """What a run accumulates: live workers, per-configuration tallies and records."""

    progress: Progress
    workers: dict[str, Worker]
    tallies: dict[str, Tally] = dataclasses.field(default_factory=dict)
    skipped: dict[str, str] = dataclasses.field(default_factory=dict)
    configs: dict[str, dict[str, Any]] = dataclasses.field(default_factory=dict)
    closing: dict[str, dict[str, Any] | None] = dataclasses.field(default_factory=dict)
    native_build: dict[str, Any] | None = None

    def skip(self, name: str, reason: str) -> None:
        self.progress(f"skipping {name}: {reason}")
        self.skipped[name] = reason


@dataclasses.dataclass(frozen=True, slots=True)
class Clocks:
    """The measured stretch: its wall time, machine-wide busy CPU and this process's CPU."""

    wall_s: float
    busy_before: tuple[float, float] | None
    busy_after: tuple[float, float] | None
    own_cpu_s: float


def _synthesize_set(utterances: Sequence[Utterance], folder: Path) -> AudioSet:
    from bench.speech import SAMPLE_RATE_HZ, synthesize

    files: dict[str, Path] = {}
    durations: dict[str, float] = {}
    for utt in utterances:
        audio = synthesize(
            utt.text, voice=utt.voice, words_per_minute=utt.words_per_minute, pitch=utt.pitch
        )
        files[utt.id] = folder / f"{utt.id}.npy"
        np.save(files[utt.id], audio)
        durations[utt.id] = audio.size / SAMPLE_RATE_HZ
    warmup = folder / "warmup.npy"
    np.save(warmup, synthesize(WARMUP_TEXT))
    return AudioSet(files, durations, warmup)


def _rotation(names: Sequence[str], step: int) -> list[str]:
    shift = step % len(names) if names else 0
    return [*names[shift:], *names[:shift]]


def run(
    *,
    quick: bool = False,
    progress: Progress = print,
    configs: Sequence[str] | None = None,
    rounds: int | None = None,
    native_venv: Path | None = None,
    threads: int = THREADS,
) -> dict[str, Any]:
    """Measure every configuration (or those named) and return the results as a JSON-able dict.

    ``quick``: three short utterances, one round; ``threads``: CPU threads of each engine.
    Configurations that cannot run here (no faster-whisper, no native build) are listed under
    ``skipped`` with the reason.
    """
    from balto.counter.detect import default_rules

    selected = _select(configs)
    utterances = [u for u in UTTERANCES if u.id in QUICK_IDS] if quick else list(UTTERANCES)
    n_rounds = rounds if rounds is not None else (1 if quick else ROUNDS)
    prompt = default_rules().vocabulary_prompt()
    started_at = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    load_before = os.getloadavg()
    cpu = machine.cpu_info()
    progress(_cpu_line(cpu, load_before))
    with tempfile.TemporaryDirectory(prefix="balto-bench-asr-") as tmp, worker_pool() as workers:
        audio = _synthesize_set(utterances, Path(tmp))
        progress(
            f"{len(utterances)} utterances, {audio.total_s:.1f} s of audio "
            f"({min(audio.durations.values()):.1f}–{max(audio.durations.values()):.1f} s each), "
            f"{n_rounds} round(s), {len(selected)} configuration(s)"
        )
        session = Session(progress, workers)
        for config in selected:
            _start_worker(
                session, config, prompt, audio.warmup, native_venv or NATIVE_VENV, threads
            )
        clocks = _measure_rounds(session, utterances, audio, n_rounds)
        session.closing.update({name: worker.close() for name, worker in workers.items()})
        workers.clear()

    return {
        "benchmark": "asr",
        "started_at": started_at,
        "quick": quick,
        "settings": _settings_record(n_rounds, prompt, threads),
        "machine": _machine_record(cpu, load_before, clocks, session),
        "utterances": [
            {**dataclasses.asdict(u), "audio_s": audio.durations[u.id]} for u in utterances
        ],
        "audio_s_per_round": audio.total_s,
        "measured_wall_s": clocks.wall_s,
        "configs": session.configs,
        "results": summarise(session.tallies, session.closing, audio.durations),
        "skipped": session.skipped,
        "native_build": session.native_build,
    }


def _machine_record(
    cpu: dict[str, Any], load_before: tuple[float, float, float], clocks: Clocks, session: Session
) -> dict[str, Any]:
    transcribe_cpu_s = sum(t.cpu_s for t in session.tallies.values())
    return {
        "cpu": cpu,
        "platform": platform.platform(),
        "python": platform.python_version(),
        "versions": machine.versions(),
        "load_average_before": list(load_before),
        "load_average_after": list(os.getloadavg()),
        "other_processes_cores": machine.foreign_cores(
            clocks.busy_before, clocks.busy_after, clocks.wall_s, clocks.own_cpu_s, transcribe_cpu_s
        ),
    }


def _select(configs: Sequence[str] | None) -> list[BenchConfig]:
    chosen = list(configs) if configs is not None else list(CONFIG_NAMES)
    unknown = sorted(set(chosen) - set(CONFIG_NAMES))
    if unknown:
        raise ValueError(f"unknown configurations: {', '.join(unknown)}")
    return [c for c in CONFIGS if c.name in chosen]


def _cpu_line(cpu: dict[str, Any], load: tuple[float, float, float]) -> str:
    avx512 = ", ".join(cpu["avx512"]) or "no AVX-512"
    return (
        f"CPU: {cpu['model_name']} ({cpu['usable_cpus']} usable cores, "
        f"AVX2 {'yes' if cpu['avx2'] else 'no'}, {avx512}); "
        f"load average {load[0]:.2f}"
    )


def _settings_record(n_rounds: int, prompt: str, threads: int) -> dict[str, Any]:
    return {
        "model": MODEL_SIZE,
        "threads": threads,
        "language": LANGUAGE,
        "rounds": n_rounds,
        "prompt": prompt,
        "reference_config": REFERENCE,
        "order": "interleaved, rotated",
        "faster_whisper": FASTER_WHISPER_OPTIONS.format(threads=threads),
    }


def _start_worker(
    session: Session,
    config: BenchConfig,
    prompt: str,
    warmup: Path,
    native_venv: Path,
    threads: int,
) -> None:
    """Start ``config``'s worker (model load + warm-up) or record why it is skipped."""
    python = Path(sys.executable)
    if config.native:
        found = native_python(native_venv)
        if found is None:
            session.skip(
                config.name, f"no native build: run {NATIVE_BUILD_SCRIPT} (several minutes)"
            )
            return
        python = found
        session.native_build = native_build_record(found)
    try:
        spec = worker_spec(config, default_cache_dir(), prompt, session.progress, threads)
        spec["warmup"] = str(warmup)
        session.progress(f"starting {config.name} …")
        worker = Worker(config, spec, python)
    except (Unavailable, WorkerError) as exc:
        session.skip(config.name, str(exc))
        return
    session.workers[config.name] = worker
    session.configs[config.name] = _config_record(config, Path(spec["model"]), python, worker)
    session.tallies[config.name] = Tally()
    session.progress(
        f"  {config.name} loaded in {worker.hello['load_s']:.2f} s (model load + warm-up)"
    )


def _config_record(
    config: BenchConfig, model: Path, python: Path, worker: Worker
) -> dict[str, Any]:
    model_bytes = (
        sum(p.stat().st_size for p in model.iterdir()) if model.is_dir() else model.stat().st_size
    )
    return {
        "description": config.description,
        "engine": config.engine,
        "weights": config.weights,
        "tuned": config.tuned if config.engine == "whispercpp" else None,
        "python": str(python),
        "model": str(model),
        "model_mib": model_bytes / 2**20,
        "load_s": worker.hello["load_s"],
        "engine_info": worker.hello["info"],
    }


def _measure_rounds(
    session: Session, utterances: Sequence[Utterance], audio: AudioSet, n_rounds: int
) -> Clocks:
    """Every utterance by every live worker, in rotated order, ``n_rounds`` times."""
    busy_before, wall_before = machine.cpu_busy_s(), time.perf_counter()
    own_before = machine.own_cpu_s()
    step = 0
    for round_no in range(1, n_rounds + 1):
        for index, utt in enumerate(utterances, start=1):
            cells = [
                cell
                for name in _rotation(list(session.workers), step)
                if (cell := _transcribe(session, name, utt, round_no, audio)) is not None
            ]
            step += 1
            elapsed = time.perf_counter() - wall_before
            session.progress(
                f"[round {round_no}/{n_rounds} {index}/{len(utterances)}, "
                f"{elapsed:.0f} s] {utt.id} {audio.durations[utt.id]:.1f} s audio: "
                + " · ".join(cells)
            )
    return Clocks(
        wall_s=time.perf_counter() - wall_before,
        busy_before=busy_before,
        busy_after=machine.cpu_busy_s(),
        own_cpu_s=machine.own_cpu_s() - own_before,
    )


def _transcribe(
    session: Session, name: str, utt: Utterance, round_no: int, audio: AudioSet
) -> str | None:
    """One utterance by one worker, tallied; its progress cell, or None when it failed."""
    worker = session.workers[name]
    tally = session.tallies[name]
    try:
        reply = worker.request({"op": "transcribe", "audio": str(audio.files[utt.id])})
    except WorkerError as exc:
        session.progress(f"  {name} failed on {utt.id}: {exc}")
        tally.runs.append({"id": utt.id, "round": round_no, "error": str(exc)})
        if not worker.alive:  # crashed: its row keeps what it measured
            session.closing[name] = worker.close()
            del session.workers[name]
        return None
    errors, words = word_errors(utt.text, reply["text"])
    tally.audio_s += audio.durations[utt.id]
    tally.wall_s += reply["wall_s"]
    tally.cpu_s += reply["cpu_s"]
    tally.errors += errors
    tally.words += words
    tally.runs.append(
        {
            "id": utt.id,
            "round": round_no,
            "wall_s": reply["wall_s"],
            "cpu_s": reply["cpu_s"],
            "text": reply["text"],
            "word_errors": errors,
            "words": words,
        }
    )
    return f"{name} {reply['wall_s']:.2f}s"


def _best_of_rounds(runs: list[dict[str, Any]], durations: dict[str, float]) -> dict[str, float]:
    """Each utterance's fastest round, summed: robust to a burst of load from elsewhere."""
    wall: dict[str, float] = {}
    cpu: dict[str, float] = {}
    for item in runs:
        if "error" not in item:
            wall[item["id"]] = min(wall.get(item["id"], math.inf), item["wall_s"])
            cpu[item["id"]] = min(cpu.get(item["id"], math.inf), item["cpu_s"])
    audio = sum(durations[i] for i in wall) or math.nan
    return {
        "wall_best_per_audio_s": sum(wall.values()) / audio,
        "cpu_best_per_audio_s": sum(cpu.values()) / audio,
    }


def summarise(
    tallies: dict[str, Tally],
    closing: dict[str, dict[str, Any] | None],
    durations: dict[str, float],
) -> dict[str, dict[str, Any]]:
    results: dict[str, dict[str, Any]] = {}
    for name, tally in tallies.items():
        audio = tally.audio_s or math.nan
        results[name] = {
            "runs": len([r for r in tally.runs if "error" not in r]),
            "failed_runs": len([r for r in tally.runs if "error" in r]),
            "audio_s": tally.audio_s,
            "wall_s": tally.wall_s,
            "cpu_s": tally.cpu_s,
            "wall_per_audio_s": tally.wall_s / audio,
            "cpu_per_audio_s": tally.cpu_s / audio,
            **_best_of_rounds(tally.runs, durations),
            "wer": tally.errors / tally.words if tally.words else None,
            "word_errors": tally.errors,
            "reference_words": tally.words,
            "peak_rss_mib": (closing.get(name) or {}).get("peak_rss_mib"),
            "transcripts": tally.runs,
        }
    reference = results.get(REFERENCE)
    for entry in results.values():
        for key in ("wall", "cpu", "wall_best", "cpu_best"):
            ratio = None
            if reference and reference[f"{key}_per_audio_s"] > 0:
                ratio = entry[f"{key}_per_audio_s"] / reference[f"{key}_per_audio_s"]
            entry[f"{key}_ratio_vs_{REFERENCE}"] = ratio
    return results
