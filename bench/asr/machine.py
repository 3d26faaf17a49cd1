"""The machine the figures belong to: CPU model and SIMD flags, and how busy it was."""

from __future__ import annotations

import contextlib
import os
import platform
import re
import resource
import subprocess
from importlib import metadata
from typing import Any


def _cpuinfo_field(name: str) -> str:
    with contextlib.suppress(OSError), open("/proc/cpuinfo", encoding="utf-8") as stream:
        for line in stream:
            key, _, value = line.partition(":")
            if key.strip() == name:
                return value.strip()
    return ""


def cpu_info() -> dict[str, Any]:
    """The CPU the figures belong to: model name, SIMD flags, core counts."""
    model = _cpuinfo_field("model name")
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        lscpu = subprocess.run(["lscpu"], capture_output=True, text=True, timeout=10).stdout
        if match := re.search(r"^Model name:\s*(.+)$", lscpu, re.MULTILINE):
            model = match[1].strip()
    flags = _cpuinfo_field("flags").split()
    simd_prefixes = ("sse", "ssse", "avx", "fma", "f16c", "amx", "vnni")
    return {
        "model_name": model or platform.processor(),
        "machine": platform.machine(),
        "logical_cpus": os.cpu_count(),
        "usable_cpus": len(os.sched_getaffinity(0)),
        "avx2": "avx2" in flags,
        "avx512": sorted(f for f in flags if f.startswith("avx512")),
        "simd_flags": sorted(f for f in flags if f.startswith(simd_prefixes)),
        "flags": flags,
    }


def cpu_busy_s() -> tuple[float, float] | None:
    """(busy, total) CPU seconds of the whole machine so far, from /proc/stat."""
    try:
        with open("/proc/stat", encoding="utf-8") as stream:
            fields = [float(x) for x in stream.readline().split()[1:]]
    except (OSError, ValueError):
        return None
    ticks = os.sysconf("SC_CLK_TCK")
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0.0)  # idle + iowait
    total = sum(fields[:8])  # guest time is already counted in user
    return (total - idle) / ticks, total / ticks


def versions() -> dict[str, str | None]:
    found: dict[str, str | None] = {}
    for package in ("pywhispercpp", "faster-whisper", "ctranslate2", "numpy"):
        try:
            found[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            found[package] = None
    return found


def own_cpu_s() -> float:
    """CPU seconds of this process and its finished children (the workers count separately)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def foreign_cores(
    before: tuple[float, float] | None,
    after: tuple[float, float] | None,
    wall_s: float,
    own_cpu_s: float,
    transcribe_cpu_s: float,
) -> float | None:
    """Average cores busy with other work while the measurements ran (noise indicator).

    Machine-wide busy CPU time minus the transcriptions' CPU time and this process's own; the
    workers' idle-time bookkeeping is small. ``None`` without /proc/stat.
    """
    if before is None or after is None or wall_s <= 0:
        return None
    busy = after[0] - before[0]
    ours = own_cpu_s + transcribe_cpu_s
    return max(0.0, (busy - ours) / wall_s)
