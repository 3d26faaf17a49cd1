"""VAD + segmenter evaluation on Portuguese speech in generated shop noise: the natural voices
(the five Kokoro voices in turn) by default, espeak-ng's robot voices with ``--espeak``.

Run: ``.venv/bin/python -m bench.vad [--vad spectral webrtc] [--snr clean 20 10 5] [--espeak]``
"""

from __future__ import annotations

import argparse
import functools
import importlib.util
import math
from collections.abc import Callable

from balto.counter.audio.segmenter import Segmenter
from balto.counter.audio.vad import SpectralVad, Vad, WebRtcVad
from bench.noise import mix, shop_noise
from bench.speech import synthesize, voices
from bench.vad_eval import LabelledStream, VadReport, build_stream, evaluate

SENTENCES = (
    "Estou com dor de garganta desde ontem",
    "Bom dia, tudo bem?",
    "Vocês têm algum remédio para tosse seca?",
    "Minha filha está com febre e dor de ouvido",
    "Quanto custa esse protetor solar?",
    "Preciso de alguma coisa para azia, comi demais no almoço",
    "Obrigado, pode ser no cartão",
    "Tenho uma receita do médico aqui",
    "Meu nariz está entupido e não consigo dormir direito",
    "Onde fica o caixa?",
    "Estou procurando um hidratante para pele seca",
    "Pode me dar uma sacola, por favor?",
    "Sinto uma dor de cabeça muito forte todas as tardes",
    "Ah, e também uma escova de dentes",
)

ESPEAK_VOICES = (("pt-br", 150, 50), ("pt-br", 170, 35), ("pt", 140, 65), ("pt-br", 160, 60))


def make_stream(seed: int = 1, *, espeak: bool = False) -> LabelledStream:
    if espeak:
        clips = [
            synthesize(text, voice=v, words_per_minute=wpm, pitch=pitch)
            for text, (v, wpm, pitch) in zip(
                SENTENCES,
                ESPEAK_VOICES * math.ceil(len(SENTENCES) / len(ESPEAK_VOICES)),
                strict=False,
            )
        ]
    else:
        pool = voices()
        clips = [synthesize(text, voice=pool[i % len(pool)]) for i, text in enumerate(SENTENCES)]
    return build_stream(clips, seed=seed)


def noisy(stream: LabelledStream, snr_db: float | None, seed: int) -> LabelledStream:
    if snr_db is None:
        return stream
    noise = shop_noise(len(stream.audio) / 16_000, seed=seed)
    return LabelledStream(mix(stream.audio, noise, snr_db), stream.sentences)


VADS: dict[str, Callable[[], Vad]] = {"spectral": SpectralVad}
if importlib.util.find_spec("webrtcvad") is not None:
    VADS["webrtc"] = WebRtcVad


COLUMNS = (
    ("vad", 8),
    ("snr", 5),
    ("sentences", 9),
    ("missed", 6),
    ("false starts", 12),
    ("split", 5),
    ("merged", 6),
    ("mean delay ms", 13),
    ("max delay ms", 12),
    ("cpu µs/frame", 12),
)


def line(cells: list[str]) -> str:
    return "| " + " | ".join(c.rjust(w) for c, (_, w) in zip(cells, COLUMNS, strict=True)) + " |"


def row(vad: str, snr: str, r: VadReport) -> str:
    counts = map(str, [r.sentences, r.missed, r.false_starts, r.split, r.merged])
    timings = [f"{r.mean_delay_ms:.0f}", f"{r.max_delay_ms:.0f}", f"{r.us_per_frame:.1f}"]
    return line([vad, snr, *counts, *timings])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--vad", nargs="+", default=list(VADS), choices=list(VADS))
    parser.add_argument("--snr", nargs="+", default=["clean", "20", "10", "5"])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--espeak", action="store_true", help="espeak-ng's voices instead")
    parser.add_argument(
        "--noise-only-s", type=float, default=120.0, help="length of the speech-free run"
    )
    args = parser.parse_args()

    base = make_stream(args.seed, espeak=args.espeak)
    print(f"{len(base.sentences)} sentences, {len(base.audio) / 16_000:.0f} s of audio per run")
    print(line([name for name, _ in COLUMNS]))
    print("|" + "|".join("-" * (w + 2) for _, w in COLUMNS) + "|")
    for snr in args.snr:
        stream = noisy(base, None if snr == "clean" else float(snr), args.seed)
        for vad in args.vad:
            factory = VADS[vad]
            report = evaluate(stream, functools.partial(Segmenter, vad_factory=factory))
            print(row(vad, snr if snr == "clean" else f"{snr}dB", report), flush=True)
    if args.noise_only_s > 0:
        # Loud shop noise and no speech at all: every final job is a false start.
        empty = LabelledStream(shop_noise(args.noise_only_s, seed=args.seed, level_db=-30.0), ())
        for vad in args.vad:
            factory = VADS[vad]
            report = evaluate(empty, functools.partial(Segmenter, vad_factory=factory))
            print(row(vad, "noise", report), flush=True)
    print(
        "missed: sentence with no overlapping final job; false start: final job overlapping "
        "no sentence;\nsplit: sentence overlapped by 2+ final jobs; merged: final job "
        "overlapping 2+ sentences;\ndelay: stream time from the true sentence end to the "
        "push that returned its last final job."
    )


if __name__ == "__main__":
    main()
