"""Smoke run of the server benchmark harness (``bench.server``): every part, tiny sizes.

Real ``balto serve`` subprocess, real whisper model, real espeak-ng speech (the old robot load
model: its loop is dense enough in complaints for a 10 s run); the structure of the results is
asserted, never the timings (those belong to the benchmark itself).
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
from bench.server import BenchSettings, main, markdown, run, write_json
from bench.speech import espeak_available

from balto.core.config import usable_cpus

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not espeak_available(), reason="espeak-ng missing (make test installs it)"),
]


@pytest.fixture(scope="module")
def model_path(base_model: Path) -> Path:
    return base_model


def test_server_bench_smoke(model_path, tmp_path):
    settings = dataclasses.replace(
        BenchSettings.quick(),
        model_path=model_path,
        counters=(1,),
        run_s=10.0,
        drain_s=3.0,
        growth_s=8.0,
        growth_counters=1,
        window_s=4.0,
        capacity_ladder=(1,),  # reuses the latency run: no extra run
        capacity_max_runs=0,
        idle_sockets=50,
        idle_hold_s=0.5,
        voice_model="robo",
        plot_file=tmp_path / "latencia.png",
    )
    lines: list[str] = []
    results = run(settings=settings, progress=lines.append)

    assert lines, "no progress reported"
    meta = results["meta"]
    assert (
        meta["asr_workers"] == usable_cpus() and meta["cpus"]
    )  # 1 thread each and len(meta["loadavg_end"]) == 3
    assert {s["categoria"] is None for s in meta["sentences"]} == {True, False}
    assert meta["load"]["model"] == "robo" and 0 < meta["load"]["talk_fraction"] < 1

    (one,) = results["latency"]["runs"]
    assert one["counters"] == 1 and one["complaints"] >= 1 and one["errors"] == []
    assert set(one["delay_s"]) == {"n", "p50", "p95", "max", "mean"}
    assert one["miss_rate"] is not None and 0 <= one["miss_rate"] <= 1
    assert one["audio_received_s"] > 5
    assert one["feedback_acked"] == one["feedback_sent"] == one["recommendations"]
    assert one["server"]["rss_mb_max"] > 0 and one["server"]["cpu_percent"] > 0
    lag = one["asr_queue_lag"]
    assert lag["count"] >= 1 and lag["buckets"]["+Inf"] == lag["count"]

    growth = results["growth"]
    assert len(growth["windows"]) == 2 and growth["trend"]["verdict"]
    assert all(w["rss_mb_mean"] for w in growth["windows"])

    capacity = results["capacity"]
    assert capacity["trials"][0]["counters"] == 1 and capacity["counters"] in (0, 1)

    idle = results["idle"]
    assert idle["opened"] == idle["server_sessions_seen"] == 50 and idle["failed"] == 0
    assert idle["dropped_while_held"] == 0
    assert idle["rss_mb_open"] >= idle["rss_mb_before"] > 0

    text = markdown(results)
    for title in ("End of speech", "No growth", "Capacity", "Idle authenticated sockets"):
        assert title in text
    if meta["plot"] is not None:  # None: matplotlib (the bench extra) is not installed
        assert Path(meta["plot"]).read_bytes()[:4] == b"\x89PNG"
    path = write_json(results, tmp_path / "server.json")
    assert json.loads(path.read_text())["idle"]["sockets"] == 50


def test_command_line_rejects_unknown_parts(capsys):
    with pytest.raises(SystemExit):
        main(["latnecy"])
    assert "unknown parts" in capsys.readouterr().err
