"""One recogniser configuration in its own process, driven by ``bench.asr``.

Run as a script (``python bench/asr/worker.py '<json spec>'``), possibly by another venv's
interpreter (the native whisper.cpp build), so it imports only the standard library and numpy at
the top; the engine is imported when the spec names it. One process per configuration keeps the
engines' thread pools and OpenMP runtimes apart and gives each its own CPU clock and peak RSS.

Protocol: JSON lines. stdin carries requests ``{"op": "transcribe", "audio": "<file.npy>"}`` or
``{"op": "close"}``; the real stdout carries one reply per request (``{"ok": true, ...}`` or
``{"ok": false, "error": "..."}``). The first reply, sent unprompted, reports the model load.
Anything the libraries print goes to stderr: fd 1 is redirected there before they load.
"""

from __future__ import annotations

import contextlib
import json
import os
import resource
import sys
import time
import traceback
from collections.abc import Callable
from typing import Any, TextIO

import numpy as np

Transcribe = Callable[[np.ndarray], str]


def _whispercpp(spec: dict[str, Any]) -> Transcribe:
    from pathlib import Path

    from balto.counter.asr.whisper import DecodeOptions, WhisperTranscriber

    transcriber = WhisperTranscriber(
        Path(spec["model"]), n_threads=int(spec["threads"]), tuned=bool(spec["tuned"])
    )
    options = DecodeOptions(language=spec["language"], prompt=spec["prompt"])
    return lambda audio: transcriber.transcribe(audio, options)


def _faster_whisper(spec: dict[str, Any]) -> Transcribe:
    from faster_whisper import WhisperModel

    model = WhisperModel(
        spec["model"],
        device="cpu",
        compute_type=spec["compute_type"],
        cpu_threads=int(spec["threads"]),
        num_workers=1,
    )
    prompt = spec["prompt"] or None

    def transcribe(audio: np.ndarray) -> str:
        # Greedy, one window, no timestamps, no fallback: the settings closest to ours. No
        # no-speech gate either: the utterances are segmented speech (as with vad_filter off),
        # and whisper.cpp returns text for them; the gate would drop a hard utterance whole.
        segments, _info = model.transcribe(
            audio,
            language=spec["language"],
            task="transcribe",
            beam_size=1,
            best_of=1,
            temperature=0.0,
            without_timestamps=True,
            vad_filter=False,
            condition_on_previous_text=False,
            no_speech_threshold=None,
            initial_prompt=prompt,
        )
        # ``segments`` is lazy: the decoding happens while it is consumed.
        return " ".join(segment.text.strip() for segment in segments)

    return transcribe


ENGINES: dict[str, Callable[[dict[str, Any]], Transcribe]] = {
    "whispercpp": _whispercpp,
    "faster-whisper": _faster_whisper,
}


def _engine_info(engine: str) -> dict[str, Any]:
    from importlib import metadata

    info: dict[str, Any] = {"python": sys.executable}
    packages = ("pywhispercpp",) if engine == "whispercpp" else ("faster-whisper", "ctranslate2")
    for package in packages:
        try:
            info[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            info[package] = None
    if engine == "whispercpp":
        import _pywhispercpp as pw

        info["system_info"] = pw.whisper_print_system_info().strip()
        info["module"] = pw.__file__
    return info


def _peak_rss_mib() -> float:
    # VmHWM belongs to this process's own address space. ru_maxrss would not do: Linux carries
    # it over fork+exec, so every worker would report at least the coordinator's peak.
    with (
        contextlib.suppress(OSError, ValueError, IndexError),
        open("/proc/self/status", encoding="ascii") as stream,
    ):
        for line in stream:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024  # kB
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB


def _reply(out: TextIO, message: dict[str, Any]) -> None:
    out.write(json.dumps(message, ensure_ascii=False) + "\n")
    out.flush()


def serve(spec: dict[str, Any], out: TextIO) -> int:
    wall, cpu = time.perf_counter(), time.process_time()
    try:
        transcribe = ENGINES[spec["engine"]](spec)
        warmup = np.load(spec["warmup"]) if spec.get("warmup") else None
        if warmup is not None:
            transcribe(warmup)  # first call allocates buffers; not measured
        info = _engine_info(spec["engine"])
    except Exception as exc:  # noqa: BLE001 - reported to the coordinator, which skips the row
        _reply(
            out,
            {
                "ok": False,
                "error": f"{type(exc).__name__}: {exc}",
                "traceback": traceback.format_exc(),
            },
        )
        return 1
    _reply(
        out,
        {
            "ok": True,
            "load_s": time.perf_counter() - wall,
            "load_cpu_s": time.process_time() - cpu,
            "info": info,
        },
    )
    for line in sys.stdin:
        request = json.loads(line)
        if request["op"] == "close":
            _reply(
                out,
                {"ok": True, "cpu_total_s": time.process_time(), "peak_rss_mib": _peak_rss_mib()},
            )
            return 0
        audio = np.load(request["audio"])
        try:
            wall, cpu = time.perf_counter(), time.process_time()
            text = transcribe(audio)
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        except Exception as exc:  # noqa: BLE001 - one failed utterance is reported, not fatal
            _reply(out, {"ok": False, "error": f"{type(exc).__name__}: {exc}"})
            continue
        _reply(out, {"ok": True, "wall_s": wall, "cpu_s": cpu, "text": text})
    return 0


def main() -> int:
    spec = json.loads(sys.argv[1])
    # Keep the protocol channel clean: libraries that print to stdout now print to stderr.
    protocol = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    return serve(spec, protocol)


if __name__ == "__main__":
    sys.exit(main())
