"""The encoder's trailing padding (``audio_ctx`` margin) against WER and CPU, on real speech.

    python -m bench.quality.margin [--margens 64,32,16] [--metade par|impar] [--snr 10]

Each real recording (``../shared/speech/real``) of the chosen half is decoded whole by one
server transcriber once per margin, the margins in a rotated order per recording (so drift of
the machine falls on all of them alike); CPU is the process's CPU time of each call. The
margins were compared on the ``par`` half (even positions of the manifest) and checked on the
``impar`` half, which the comparison did not see. WER is not the whole story: ``python -m
bench.cost --margem N`` gives each margin's complaint recall on the labelled scenes.
"""

from __future__ import annotations

import argparse
import time

from balto.counter.asr.whisper import WhisperTranscriber
from balto.counter.config import CounterConfig
from balto.counter.pipeline import decode_options
from bench.asr.wer import normalize_words, word_errors
from bench.quality.data import real_recordings
from bench.quality.real import recording_audio
from bench.server.settings import default_model

HALVES = {"par": 0, "impar": 1}


def _margins(text: str) -> list[int]:
    values = [int(v) for v in text.split(",") if v.strip()]
    if not values or any(v < 0 for v in values):
        raise argparse.ArgumentTypeError("margens: inteiros >= 0 separados por vírgula")
    return values


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.quality.margin", description=__doc__)
    parser.add_argument("--margens", type=_margins, default=[64, 32, 16])
    parser.add_argument("--metade", choices=sorted(HALVES), default="par")
    parser.add_argument("--snr", type=float, default=None, help="ruído de loja (dB); sem: limpo")
    args = parser.parse_args(argv)
    config = CounterConfig.from_env()
    options = decode_options(config.language)
    recordings = real_recordings()[HALVES[args.metade] :: 2]
    errors = dict.fromkeys(args.margens, 0)
    cpu = dict.fromkeys(args.margens, 0.0)
    words, audio_s = 0, 0.0
    with WhisperTranscriber(
        default_model(), n_threads=config.asr_threads_per_worker, beam_size=config.asr_beam_size
    ) as transcriber:
        for index, recording in enumerate(recordings):
            audio = recording_audio(recording, index, args.snr)
            audio_s += len(audio) / 16_000
            words += len(normalize_words(recording.transcript))
            turn = index % len(args.margens)
            for margin in args.margens[turn:] + args.margens[:turn]:
                transcriber.audio_ctx_margin = margin
                started = time.process_time()
                heard = transcriber.transcribe(audio, options)
                cpu[margin] += time.process_time() - started
                errors[margin] += word_errors(recording.transcript, heard)[0]
    condition = "limpo" if args.snr is None else f"{args.snr:g} dB"
    print(f"metade {args.metade}, {condition}: {len(recordings)} gravações, {audio_s:.0f} s")
    reference = cpu[args.margens[0]]
    for margin in args.margens:
        print(
            f"  margem {margin:3d} ({margin * 0.02:.2f} s): WER {errors[margin] / words:.1%}, "
            f"CPU-s / s de áudio {cpu[margin] / audio_s:.4f}, "
            f"{cpu[margin] / reference:.3f}x a margem {args.margens[0]}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
