"""``python -m bench.native_choice``: at setup, keep the PyPI wheel of pywhispercpp or install a
build for this CPU, whichever measured cheaper side by side.

The PyPI wheel runs generic AVX2 code. Where the CPU has instructions it lacks (AVX-512, VNNI),
``native/build_whispercpp.sh`` builds whisper.cpp with ``-march=native``; this command then runs
``bench.asr`` on both, interleaved, and installs the native wheel into the running venv only when
its recognition CPU per audio second is at most ``NATIVE_MAX_CPU_RATIO`` of the wheel's. On any
failure (no compiler, build error, no espeak-ng to synthesise the test speech) the wheel stays.
Measured on an AMD EPYC with AVX-512/VNNI the native build was 1.19x *slower*, so "has AVX-512"
alone is not a reason to switch.

The decision is written once per venv (``<venv>/BALTO_WHISPER_CHOICE.json``), which is also the
Makefile's stamp; ``--force`` measures again.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import shutil
import subprocess
import sys
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
BUILD_SCRIPT = REPO / "native" / "build_whispercpp.sh"
CHOICE_FILE = Path(sys.prefix) / "BALTO_WHISPER_CHOICE.json"
#: Instruction sets whisper.cpp can use that the PyPI wheel (generic x86-64 + AVX2) does not.
WHEEL_LACKS = ("avx512f", "avx512_vnni", "avx512_bf16", "avx_vnni", "amx_tile")
#: The native build must cost at most this share of the wheel's CPU to be worth installing.
NATIVE_MAX_CPU_RATIO = 0.95
ROUNDS = 3


@dataclasses.dataclass(frozen=True, slots=True)
class Choice:
    build: str  # "wheel" or "native"
    reason: str
    cpu_ratio: float | None = None  # native CPU s / wheel CPU s, side by side


def missing_in_wheel(cpu_flags: Iterable[str]) -> list[str]:
    flags = set(cpu_flags)
    return [flag for flag in WHEEL_LACKS if flag in flags]


def decide(extra_flags: Sequence[str], cpu_ratio: float | None) -> Choice:
    """The decision from the CPU's extra instructions and the measured ratio (None: not run)."""
    if not extra_flags:
        return Choice("wheel", "the CPU has no instruction the wheel lacks")
    if cpu_ratio is None:
        return Choice("wheel", "the native build could not be measured")
    if cpu_ratio <= NATIVE_MAX_CPU_RATIO:
        return Choice("native", f"native costs {cpu_ratio:.2f}x the wheel's CPU", cpu_ratio)
    return Choice(
        "wheel",
        f"native costs {cpu_ratio:.2f}x the wheel's CPU (needs <= {NATIVE_MAX_CPU_RATIO})",
        cpu_ratio,
    )


def _cpu_flags() -> list[str]:
    from bench.asr.machine import cpu_info

    cpu = cpu_info()
    return [*cpu["simd_flags"], *cpu["avx512"]]


def _build() -> Path | None:
    """Build the native wheel (about a minute on 2 cores); its path, or None on failure."""
    from bench.asr.workers import native_build_record, native_python

    try:
        subprocess.run(["bash", str(BUILD_SCRIPT), "--no-project"], check=True)
    except (OSError, subprocess.CalledProcessError) as error:
        print(f"native build failed ({error}); keeping the wheel", file=sys.stderr)
        return None
    python = native_python()
    record = native_build_record(python) if python else None
    return Path(record["wheel"]) if record and record.get("wheel") else None


def _measure() -> float | None:
    """Native CPU seconds over the wheel's, interleaved on the benchmark's short utterances."""
    from bench.asr.run import run

    report = run(
        quick=True,
        rounds=ROUNDS,
        configs=["balto", "balto-native"],
        progress=lambda line: print(line, file=sys.stderr),
    )
    native = report["results"].get("balto-native")
    if not native or native.get("failed_runs"):
        return None
    return float(native["cpu_ratio_vs_balto"])


def _install(wheel: Path) -> bool:
    command = [sys.executable, "-m", "pip", "install", "-q", "--force-reinstall", "--no-deps"]
    try:
        subprocess.run([*command, str(wheel)], check=True)
    except (OSError, subprocess.CalledProcessError) as error:
        print(f"installing {wheel} failed ({error}); keeping the wheel", file=sys.stderr)
        return False
    return True


def choose() -> Choice | None:
    """The choice, or None when it cannot be measured here yet (no espeak-ng to synthesise
    the benchmark's speech: ``make setup`` installs it), so that a later run decides."""
    extra = missing_in_wheel(_cpu_flags())
    if not extra:
        return decide(extra, None)
    if shutil.which("espeak-ng") is None:
        print("espeak-ng is missing (make setup installs it): keeping the wheel for now")
        return None
    print(f"the CPU has {', '.join(extra)}: building whisper.cpp for it", file=sys.stderr)
    wheel = _build()
    choice = decide(extra, _measure() if wheel else None)
    if choice.build == "native" and not (wheel and _install(wheel)):
        return Choice("wheel", "the native wheel could not be installed", choice.cpu_ratio)
    return choice


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.native_choice", description=__doc__)
    parser.add_argument("--force", action="store_true", help="measure again")
    args = parser.parse_args(argv)
    if CHOICE_FILE.exists() and not args.force:
        print(CHOICE_FILE.read_text(encoding="utf-8").strip())
        return 0
    choice = choose()
    if choice is None:
        return 0
    record: dict[str, Any] = dataclasses.asdict(choice) | {
        "decided_at": time.strftime("%Y-%m-%dT%H:%M:%S%z")
    }
    CHOICE_FILE.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    print(f"whisper.cpp: {choice.build} ({choice.reason}); recorded in {CHOICE_FILE}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
