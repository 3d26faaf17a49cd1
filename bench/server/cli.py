"""``python -m bench.server``: the command line of the server benchmark."""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path
from typing import Any

from bench.server.markdown import markdown, write_json
from bench.server.probes import (
    BenchError,
)
from bench.server.runner import run
from bench.server.settings import PARTS, RESULTS_FILE, VOICE_MODELS, BenchSettings

DESCRIPTION = "Server benchmark: the real balto serve (real whisper.cpp) under counters."


def _counts(text: str) -> tuple[int, ...]:
    return tuple(int(x) for x in text.split(",") if x.strip())


def build_parser() -> argparse.ArgumentParser:
    d = BenchSettings()
    p = argparse.ArgumentParser(prog="python -m bench.server", description=DESCRIPTION)
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
    p.add_argument(
        "--voz",
        choices=VOICE_MODELS,
        default=d.voice_model,
        help="load model: two people in natural voices, or the old espeak-ng robot loop",
    )
    p.add_argument("--talk-fraction", type=float, help="speech share of the stream (natural)")
    p.add_argument("--snr", type=float, help="speech-to-noise ratio of the counters' audio (dB)")
    p.add_argument("--plot", type=Path, default=d.plot_file, help="where the latency PNG goes")
    p.add_argument("--json", type=Path, default=RESULTS_FILE, help="where the JSON goes")
    return p


def settings_from_args(args: argparse.Namespace) -> BenchSettings:
    settings = BenchSettings.preset(quick=args.quick, duration_scale=args.scale)
    changes: dict[str, Any] = {
        "asr_workers": args.workers,
        "asr_threads_per_worker": args.threads,
        "cooldown_s": args.cooldown,
        "model_path": args.model,
        "voice_model": args.voz,
        "plot_file": args.plot,
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
        "talk_fraction": args.talk_fraction,
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
