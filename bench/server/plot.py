"""The latency-vs-counters plot: p50 and p95 end of speech → ``recomendar`` for every number
of counters run (latency and capacity runs), the capacity limit and the capacity found.

matplotlib (the ``bench`` extra) draws it off screen (Agg); without it there is no plot.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

Point = tuple[int, float | None, float | None, bool | None]  # counters, p50, p95, holds


def latency_points(results: dict[str, Any]) -> list[Point]:
    """(counters, p50 s, p95 s, held the capacity criterion) of every run, latency and
    capacity, in order of counters."""
    points: dict[int, Point] = {}
    for trial in results.get("capacity", {}).get("trials", []):
        n = trial["counters"]
        points[n] = (n, trial.get("p50_s"), trial["p95_s"], trial.get("holds"))
    for run in results.get("latency", {}).get("runs", []):
        n, delay = run["counters"], run["delay_s"]
        points[n] = (n, delay["p50"], delay["p95"], run.get("holds"))
    return [points[n] for n in sorted(points)]


def plot_latency(results: dict[str, Any], path: Path) -> Path | None:
    """Write the PNG to ``path``; None when matplotlib is missing or there is nothing to plot."""
    points = latency_points(results)
    if not points or importlib.util.find_spec("matplotlib") is None:
        return None
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    capacity = results.get("capacity")
    limit = (capacity or {}).get("p95_limit_s") or results["meta"]["settings"]["capacity_p95_s"]
    counters = [n for n, *_ in points]
    figure, axes = plt.subplots(figsize=(7.0, 4.2), dpi=120)
    for label, marker, values in (
        ("p50", "o", [(n, p50) for n, p50, _, _ in points if p50 is not None]),
        ("p95", "s", [(n, p95) for n, _, p95, _ in points if p95 is not None]),
    ):
        axes.plot([n for n, _ in values], [v for _, v in values], marker=marker, label=label)
    failed = [(n, limit if p95 is None else p95) for n, _, p95, ok in points if ok is False]
    if failed:  # at the limit line when the run had no delay at all (every complaint missed)
        axes.scatter(
            [n for n, _ in failed],
            [v for _, v in failed],
            marker="x",
            s=80,
            color="tab:red",
            zorder=3,
            label="não passou (p95, fala descartada ou erro)",
        )
    axes.axhline(limit, color="tab:red", linestyle="--", label=f"limite p95 {limit:g} s")
    if capacity is not None:
        found = capacity["counters"]
        axes.axvline(found, color="tab:green", linestyle=":", label=f"capacidade: {found}")
    voices = results["meta"].get("voice_model", "natural")
    axes.set_title(f"Fim da fala → recomendar (vozes: {voices})")
    axes.set_xlabel("balcões em tempo real")
    axes.set_ylabel("atraso (s)")
    axes.set_xticks(counters)
    lowest = min((v for _, p50, p95, _ in points for v in (p50, p95) if v is not None), default=0)
    axes.set_ylim(bottom=min(0.0, lowest))
    axes.grid(True, alpha=0.3)
    axes.legend()
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, format="png")
    plt.close(figure)
    return path
