"""``python -m bench.asr``: run the recognition-cost benchmark, print the table, save the JSON."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench.asr.report import format_table, save
from bench.asr.run import run
from bench.asr.settings import CONFIG_NAMES, NATIVE_VENV, RESULTS_FILE, ROUNDS, THREADS


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.asr", description="Recognition cost per audio second, side by side."
    )
    parser.add_argument("--quick", action="store_true", help="3 short utterances, 1 round")
    parser.add_argument("--rounds", type=int, help=f"interleaved rounds (default {ROUNDS})")
    parser.add_argument(
        "--configs",
        nargs="+",
        choices=CONFIG_NAMES,
        metavar="NAME",
        help=f"configurations to run (default: all of {', '.join(CONFIG_NAMES)})",
    )
    parser.add_argument(
        "--threads", type=int, default=THREADS, help=f"CPU threads per engine (default {THREADS})"
    )
    parser.add_argument("--native-venv", type=Path, help=f"default: {NATIVE_VENV}")
    parser.add_argument("--output", type=Path, default=RESULTS_FILE, help="JSON results file")
    parser.add_argument("--transcripts", action="store_true", help="print every transcript")
    args = parser.parse_args(argv)
    if args.rounds is not None and args.rounds < 1:
        parser.error("--rounds must be at least 1")
    if args.threads < 1:
        parser.error("--threads must be at least 1")

    def progress(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    report = run(
        quick=args.quick,
        progress=progress,
        configs=args.configs,
        rounds=args.rounds,
        native_venv=args.native_venv,
        threads=args.threads,
    )
    save(report, args.output)
    if args.transcripts:
        print_transcripts(report)
    print(format_table(report))
    print(f"\nresults: {args.output}", file=sys.stderr)
    return 0


def print_transcripts(report: dict[str, Any]) -> None:
    """Every configuration's first-round transcripts, each above its reference text."""
    texts = {u["id"]: u["text"] for u in report["utterances"]}
    for name, entry in report["results"].items():
        print(f"\n### {name}")
        for item in entry["transcripts"]:
            if item.get("round") == 1:
                heard = item.get("text", f"(error: {item.get('error')})")
                print(f"- {item['id']}: {heard}\n  ref: {texts[item['id']]}")
