"""The recognition-cost report: a Markdown table, and the JSON file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from bench.asr.settings import BUSY_CORES, REFERENCE, RESULTS_FILE


def format_table(report: dict[str, Any]) -> str:
    """The results as a Markdown table (one row per configuration, skipped ones noted)."""
    header = (
        "| config | wall s / audio s | CPU s / audio s | wall × balto | CPU × balto "
        "| best-round wall s / audio s | best × balto | WER | model MiB | load s "
        "| peak RSS MiB |"
    )
    columns = header.count("|") - 1
    lines = [header, "|" + "---|" * columns]
    for name, entry in report["results"].items():
        info = report["configs"][name]

        def ratio(key: str, entry: dict[str, Any] = entry) -> str:
            value = entry[f"{key}_ratio_vs_{REFERENCE}"]
            return "–" if value is None else f"{value:.2f}×"

        wer = "–" if entry["wer"] is None else f"{entry['wer'] * 100:.1f} %"
        rss = entry["peak_rss_mib"]
        lines.append(
            f"| {name} | {entry['wall_per_audio_s']:.3f} | {entry['cpu_per_audio_s']:.3f} "
            f"| {ratio('wall')} | {ratio('cpu')} | {entry['wall_best_per_audio_s']:.3f} "
            f"| {ratio('wall_best')} | {wer} | {info['model_mib']:.0f} | {info['load_s']:.2f} "
            f"| {'–' if rss is None else f'{rss:.0f}'} |"
        )
    for name, reason in report["skipped"].items():
        # The JSON keeps the whole reason; a table cell gets its last line.
        last = [line for line in reason.splitlines() if line.strip()][-1:] or ["?"]
        cell = last[0].strip().replace("|", "/")[:160]
        lines.append(f"| {name} | skipped: {cell} |" + " |" * (columns - 2))
    machine = report["machine"]
    cpu = machine["cpu"]
    foreign = machine["other_processes_cores"]
    lines += [
        "",
        f"{len(report['utterances'])} utterances, {report['audio_s_per_round']:.1f} s of audio, "
        f"{report['settings']['rounds']} round(s) interleaved; {report['settings']['threads']} "
        f"threads; CPU {cpu['model_name']} (AVX2 {'yes' if cpu['avx2'] else 'no'}, "
        f"AVX-512 {', '.join(cpu['avx512']) or 'no'}); load average "
        f"{machine['load_average_before'][0]:.2f} → {machine['load_average_after'][0]:.2f}"
        + ("" if foreign is None else f"; other processes used {foreign:.2f} cores meanwhile"),
    ]
    if foreign is not None and foreign > BUSY_CORES:
        lines.append(
            "The machine was busy: totals carry the bursts of other work"
            + (
                "; the best-round columns (each utterance's fastest round) are the steadier "
                "comparison."
                if report["settings"]["rounds"] > 1
                else "; run it again on an idle machine."
            )
        )
    return "\n".join(lines)


def save(report: dict[str, Any], path: Path = RESULTS_FILE) -> Path:
    """Write the report as JSON (``bench/results/asr.json`` by default, git-ignored)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return path
