"""Run every benchmark in one go: ``python -m bench`` (or ``make bench``).

Parts: ``asr`` (recognition cost per audio second: our pipeline vs whisper.cpp defaults vs
faster-whisper, f16 vs q8_0, wheel vs native build), ``cost`` (the whole counter pipeline's
recognition CPU per second of speech under the server's decode policy, against one pass per
utterance of the same speech: :mod:`bench.cost`) and ``server`` (end-of-speech →
recommendation delay for 1/2/4/8 counters, growth over minutes, capacity, idle memory).
Tables print as they finish; everything lands in ``bench/results/latest.json`` with the machine
it ran on, so a run on a customer's CPU can be compared with ours.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"


def machine() -> dict[str, Any]:
    info: dict[str, Any] = {"python": platform.python_version(), "platform": platform.platform()}
    try:
        cpuinfo = Path("/proc/cpuinfo").read_text()
    except OSError:
        return info
    for line in cpuinfo.splitlines():
        if line.startswith("model name") and "cpu" not in info:
            info["cpu"] = line.split(":", 1)[1].strip()
        if line.startswith("flags") and "flags" not in info:
            flags = line.split(":", 1)[1].split()
            info["flags"] = sorted(f for f in flags if f.startswith(("avx", "fma", "f16c", "amx")))
    info["cores"] = cpuinfo.count("processor\t:")
    return info


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("parts", nargs="*", metavar="{asr,cost,server}", help="default: all")
    parser.add_argument("--quick", action="store_true", help="a short smoke run of each part")
    parser.add_argument(
        "--duration-scale", type=float, default=1.0, help="scale the server runs' durations"
    )
    args = parser.parse_args(argv)
    args.parts = args.parts or ["asr", "cost", "server"]
    if unknown := set(args.parts) - {"asr", "cost", "server"}:
        parser.error(f"unknown part(s): {', '.join(sorted(unknown))}")

    def progress(message: str) -> None:
        print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)

    results: dict[str, Any] = {"machine": machine(), "started": time.strftime("%Y-%m-%dT%H:%M:%S")}
    progress(f"machine: {results['machine'].get('cpu', '?')}")
    started = time.monotonic()
    if "asr" in args.parts:
        from bench import asr

        results["asr"] = asr.run(quick=args.quick, progress=progress)
        print(asr.format_table(results["asr"]), flush=True)
    if "cost" in args.parts:
        from bench import cost

        results["cost"] = cost.run_for_bench(quick=args.quick, progress=progress)
        print(cost.markdown(results["cost"]), flush=True)
    if "server" in args.parts:
        from bench import server

        results["server"] = server.run(
            quick=args.quick, duration_scale=args.duration_scale, progress=progress
        )
        print(server.markdown(results["server"]), flush=True)
    results["elapsed_s"] = round(time.monotonic() - started, 1)
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / "latest.json"
    out.write_text(json.dumps(results, indent=2, ensure_ascii=False))
    progress(f"done in {results['elapsed_s']} s; results in {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
