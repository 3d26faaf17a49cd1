"""The server benchmark's results as Markdown tables, and as a JSON file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from bench.server.settings import RESULTS_FILE


def num(value: float | None, digits: int = 2) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def _quantile(histogram: dict[str, Any], key: str) -> str:
    above = histogram.get(key.replace("_s", "_above_s"))
    return f"> {above:g}" if above is not None else num(histogram[key])


def pct(value: float | None) -> str:
    return "–" if value is None else f"{100 * value:.0f} %"


def _table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---:" for _ in header) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def markdown(results: dict[str, Any]) -> str:
    meta = results["meta"]
    out = [
        "## Server benchmark",
        "",
        f"balto {meta['balto']}, {meta['cpus']} CPUs, load average {meta['loadavg_start']}"
        f" → {meta.get('loadavg_end')}; model `{Path(meta['model']).name}`,"
        f" ASR_WORKERS={meta['asr_workers']}, ASR_THREADS_PER_WORKER="
        f"{meta['asr_threads_per_worker']}, cooldown {meta['recommendation_cooldown_s']} s,"
        f" noise SNR {meta['snr_db']} dB; wall {meta.get('wall_s')} s.",
    ]
    if "load" in meta:
        out += ["", _load_line(meta["load"])]
    if meta.get("plot"):
        out += ["", f"Plot (p50/p95 vs counters): `{meta['plot']}`"]
    for part, section in (
        ("latency", _latency_section),
        ("growth", _growth_section),
        ("capacity", _capacity_section),
        ("idle", _idle_section),
    ):
        if part in results:
            out += section(results)
    return "\n".join(out) + "\n"


def _load_line(load: dict[str, Any]) -> str:
    line = f"Load model: **{load['model']}**"
    if load.get("talk_fraction_target") is not None:
        line += (
            f"; two people per counter (customer and attendant taking turns,"
            f" reply after ~{load['turn_pause_s']:g} s); speech share asked"
            f" {pct(load['talk_fraction_target'])}"
        )
    return (
        f"{line}; speech share measured {pct(load['talk_fraction'])}"
        f" (customer {pct(load['customer_fraction'])}) over {load['loops']} loops of"
        f" {', '.join(f'{s:.0f}' for s in load['loop_s'])} s; shop noise at"
        f" {load['snr_db']:g} dB SNR; voices: {', '.join(load['voices'])}."
    )


def _latency_section(results: dict[str, Any]) -> list[str]:
    meta = results["meta"]
    return [
        "",
        "### End of speech → `recomendar`",
        "",
        "Delay from the send of the frame holding a complaint's last speech sample to its"
        " recommendation (negative: an interim decode fired first). Miss: no recommendation"
        f" within {meta['miss_after_s']:.0f} s. False: neutral sentences that got one."
        " Queue lag and decode: whisper pool histograms (`/metrics`; p95 estimated from"
        " the buckets).",
        "",
        _table(
            [
                "counters",
                "complaints",
                "p50 s",
                "p95 s",
                "max s",
                "miss",
                "false",
                "server CPU %",
                "RSS MB",
                "queue lag mean/p95 s",
                "decode mean/p95 s",
                "dropped s",
                "ASR CPU-s / speech s",
            ],
            [_latency_row(r) for r in results["latency"]["runs"]],
        ),
    ]


def _growth_section(results: dict[str, Any]) -> list[str]:
    g = results["growth"]
    return [
        "",
        f"### No growth ({g['counters']} counters, {g['duration_s']:.0f} s,"
        f" {g['window_s']:.0f} s windows)",
        "",
        _table(
            ["from s", "complaints", "misses", "p50 s", "p95 s", "RSS MB", "CPU %"],
            [
                [
                    f"{w['from_s']:.0f}",
                    str(w["complaints"]),
                    str(w["misses"]),
                    num(w["delay_s"]["p50"]),
                    num(w["delay_s"]["p95"]),
                    num(w["rss_mb_mean"], 0),
                    num(w["cpu_percent"], 0),
                ]
                for w in g["windows"]
            ],
        ),
        "",
        f"Verdict: **{g['trend']['verdict']}**.",
    ]


def _capacity_section(results: dict[str, Any]) -> list[str]:
    c = results["capacity"]
    exact = "" if c["exact"] else " (bounds not tight: run budget or ladder end)"
    if c["non_monotonic"]:
        exact += "; results not monotonic in N: the machine's load changed between runs"
    return [
        "",
        f"### Capacity (p95 ≤ {c['p95_limit_s']} s, no speech dropped)",
        "",
        _table(
            [
                "counters",
                "holds",
                "p95 s",
                "miss",
                "dropped s",
                "server CPU %",
                "ASR CPU-s / speech s",
            ],
            [
                [
                    str(t["counters"]),
                    "yes" if t["holds"] else "no",
                    num(t["p95_s"]),
                    pct(t["miss_rate"]),
                    str(t["audio_dropped_s"]),
                    f"{t['cpu_percent']:.0f}",
                    num(t.get("asr_cpu_per_speech_s"), 3),
                ]
                for t in c["trials"]
            ],
        ),
        "",
        f"Capacity: **{c['counters']} real-time counters**; first failing:"
        f" {c['first_failing']}{exact}.",
    ]


def _idle_section(results: dict[str, Any]) -> list[str]:
    i = results["idle"]
    ms = i["connect_auth_ms"]
    return [
        "",
        "### Idle authenticated sockets",
        "",
        _table(
            [
                "sockets",
                "opened",
                "RSS before MB",
                "RSS open MB",
                "RSS after close MB",
                "KiB / socket",
                "connect+auth p50/p95 ms",
                "registrations/s",
            ],
            [
                [
                    str(i["sockets"]),
                    str(i["opened"]),
                    f"{i['rss_mb_before']:.0f}",
                    f"{i['rss_mb_open']:.0f}",
                    f"{i['rss_mb_after_close']:.0f}",
                    f"{i['kib_per_socket']:.1f}",
                    f"{num(ms['p50'], 0)}/{num(ms['p95'], 0)}",
                    f"{i['registrations_per_s']:.0f}",
                ]
            ],
        ),
    ]


def _latency_row(r: dict[str, Any]) -> list[str]:
    d, lag, dec = r["delay_s"], r["asr_queue_lag"], r["asr_decode"]
    return [
        str(r["counters"]),
        str(r["complaints"]),
        num(d["p50"]),
        num(d["p95"]),
        num(d["max"]),
        pct(r["miss_rate"]),
        pct(r["false_rate"]),
        f"{r['server']['cpu_percent']:.0f}",
        f"{r['server']['rss_mb_max']:.0f}",
        f"{num(lag['mean_s'])}/{_quantile(lag, 'p95_s')}",
        f"{num(dec['mean_s'])}/{_quantile(dec, 'p95_s')}",
        str(r["audio_dropped_s"]),
        num(r.get("asr_cpu_per_speech_s"), 3),
    ]


def write_json(results: dict[str, Any], path: Path = RESULTS_FILE) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return path
