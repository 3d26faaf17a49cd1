"""``python -m bench.cost``: what a counter's decode policy costs, against one pass per utterance.

Every policy runs the counter's real pipeline (:func:`balto.counter.offline.transcribe_audio`
over :func:`balto.counter.pipeline.counter_pipeline`: VAD segmentation, the decode scheduler,
whisper.cpp, the detector) on the same labelled counter scenes in natural voices
(:mod:`bench.quality`), one after the other on each scene, in one process. For each policy:

* CPU seconds of recognition (the process's CPU time around each whisper call: nothing else
  runs meanwhile) per second of speech (the utterances the segmenter cut), and the ratio to
  ``unica``: each utterance decoded once when it ends, the offline single-pass cost of the same
  speech, measured side by side;
* decodes per utterance and audio decoded per second of speech;
* recall and precision of the labelled rules (as in the quality report);
* how early the first right recommendation's audio was ready, relative to the end of the
  complaint (negative: before the customer stopped talking), for one-turn complaints; the
  decode time (wall) comes on top, shown apart.

Tuning looks at the ``ajuste`` part only; ``--parte reservada`` gives the held-out figures.
The ``-sem-costura`` rows are windowed policies with the detector reading each decode's text
alone, as before :mod:`balto.counter.ws.transcript`: the stitching's effect, side by side.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from balto.counter.asr.base import DecodeOptions, Transcriber
from balto.counter.asr.whisper import AUDIO_CTX_MARGIN, WhisperTranscriber
from balto.counter.audio.segmenter import DecodeJob
from balto.counter.audio.types import SAMPLE_RATE_HZ, Audio
from balto.counter.config import CounterConfig
from balto.counter.detect.loader import default_rules
from balto.counter.offline import transcribe_audio
from balto.counter.pipeline import ECONOMY_POLICY, DecodePolicy, counter_pipeline
from balto.counter.ws.transcript import UtteranceTranscript
from bench.quality.data import REPO, labelled_items
from bench.quality.labelled import Score, speak
from bench.room import counter_scene
from bench.server.settings import default_model

RESULTS = REPO / "bench" / "results" / "cost.json"
SINGLE = "unica"
SERVER = "servidor"  # the policy the server's configuration selects
ECONOMY = "economia"  # the policy a server switches its counters to under load


def _pauses_only(min_new_s: float) -> DecodePolicy:
    """Windowed decodes at 0.3 s pauses after ``min_new_s`` of new audio, no periodic ones."""
    return DecodePolicy(
        interim_every_s=None,
        pause_interim_s=0.3,
        pause_interim_min_s=min_new_s,
        window_overlap_s=1.5,
        skip_covered_finals=True,
    )


# The rows of README "Desempenho" (python -m bench.cost runs them all).
POLICIES: dict[str, DecodePolicy] = {
    SINGLE: DecodePolicy(interim_every_s=None),
    "crescente": DecodePolicy(),  # every interim re-decodes the whole utterance so far
    "janela+pausa": DecodePolicy(
        pause_interim_s=0.3, window_overlap_s=1.5, skip_covered_finals=True
    ),
    # whole-utterance decodes (no window) at pauses only, and the final
    "pausa-crescente": DecodePolicy(
        interim_every_s=None, pause_interim_s=0.3, pause_interim_min_s=1.0
    ),
    # windowed interims at pauses, every final over its whole utterance
    "pausa-min2-final": dataclasses.replace(
        _pauses_only(2.0), skip_covered_finals=False, whole_finals=True
    ),
    # growing interims, and whole-utterance decodes at pauses that spare the final
    "crescente+pausa": dataclasses.replace(ECONOMY_POLICY, interim_every_s=1.5),
    # the server's economy policy under load (DecodePolicy.economy): whole-utterance decodes
    # at phrase-end pauses only, and no final where they already heard all the speech
    ECONOMY: ECONOMY_POLICY,
    "pausa-min1": _pauses_only(1.0),
    "pausa-min2": _pauses_only(2.0),
}

# The windowed policies as they were before the detector read the utterance's stitched text
# (balto.counter.ws.transcript): each decode's text alone. Measured side by side with them.
UNSTITCHED = "-sem-costura"
for _name in ("janela+pausa", "pausa-min1", "pausa-min2"):
    POLICIES[_name + UNSTITCHED] = POLICIES[_name]


class LastDecodeOnly(UtteranceTranscript):
    """The detector reads each decode's text alone (the old behaviour, for comparison)."""

    def heard(self, job: DecodeJob, text: str) -> str:
        super().heard(job, text)
        return text


class MeteredTranscriber:
    """A transcriber that adds up the CPU and wall time and the audio of every call."""

    def __init__(self, inner: Transcriber) -> None:
        self.inner = inner
        self.calls = 0
        self.cpu_s = 0.0
        self.walls_s: list[float] = []
        self.audio_s = 0.0

    def transcribe(self, audio: Audio, options: DecodeOptions) -> str:
        cpu, wall = time.process_time(), time.perf_counter()
        try:
            return self.inner.transcribe(audio, options)
        finally:
            self.cpu_s += time.process_time() - cpu
            self.walls_s.append(time.perf_counter() - wall)
            self.calls += 1
            self.audio_s += len(audio) / SAMPLE_RATE_HZ

    def close(self) -> None:
        self.inner.close()


@dataclasses.dataclass
class Tally:
    meter: MeteredTranscriber
    score: Score = dataclasses.field(default_factory=Score)
    utterances: int = 0
    speech_s: float = 0.0
    early_s: list[float] = dataclasses.field(default_factory=list)
    missing_early: int = 0


def run(
    policies: dict[str, DecodePolicy],
    *,
    part: str,
    every: int,
    snr_db: float | None,
    transcriber: Transcriber,
    progress: Any = print,
) -> dict[str, Any]:
    config = CounterConfig.from_env()
    rules = default_rules()
    items = [item for item in labelled_items() if item.parte == part][:: max(1, every)]
    tallies = {name: Tally(MeteredTranscriber(transcriber)) for name in policies}
    names = list(policies)
    for index, item in enumerate(items):
        scene = counter_scene(speak(item, index), snr_db=snr_db, seed=index)
        for name in names[index % len(names) :] + names[: index % len(names)]:
            tally = tallies[name]
            pipeline = counter_pipeline(config, rules, config.language, policy=policies[name])
            if name.endswith(UNSTITCHED):
                pipeline = dataclasses.replace(pipeline, transcript=LastDecodeOnly())
            segments, findings = transcribe_audio(scene.audio, tally.meter, pipeline)
            tally.utterances += len(segments)
            tally.speech_s += sum(s.end_s - s.start_s for s in segments)
            fired = frozenset(f.opportunity.rule_id for f in findings)
            tally.score.add(item, fired)
            if item.regras and len(item.turns) == 1:
                right = [f.at_s for f in findings if f.opportunity.rule_id in item.regras]
                if right:
                    tally.early_s.append(min(right) - scene.turns[0].end_s)
                else:
                    tally.missing_early += 1
        if (index + 1) % 20 == 0:
            progress(f"  {index + 1}/{len(items)} itens")
    # Speech is what the single pass cut: the same audio for every policy.
    speech_s = tallies[SINGLE].speech_s if SINGLE in tallies else None
    base_cpu = tallies[SINGLE].meter.cpu_s if SINGLE in tallies else None
    out: dict[str, Any] = {"itens": len(items), "parte": part, "snr_db": snr_db}
    for name, tally in tallies.items():
        meter, summary = tally.meter, tally.score.summary()
        speech = speech_s or tally.speech_s
        out[name] = {
            "decodificacoes": meter.calls,
            "decodificacoes_por_fala": meter.calls / max(1, tallies[SINGLE].utterances)
            if SINGLE in tallies
            else None,
            "audio_por_s_fala": meter.audio_s / speech if speech else None,
            "cpu_s": round(meter.cpu_s, 2),
            "cpu_por_s_fala": meter.cpu_s / speech if speech else None,
            "custo_relativo": meter.cpu_s / base_cpu if base_cpu else None,
            "recall": summary["recall_frases"],
            "precisao": summary["precisao"],
            "alarmes_neutras": summary["neutras_com_alarme"],
            "neutras": summary["neutras"],
            "antecedencia_p50_s": _quantile(tally.early_s, 0.5),
            "antecedencia_p90_s": _quantile(tally.early_s, 0.9),
            "decodificacao_p50_s": _quantile(meter.walls_s, 0.5),
        }
    return out


def _quantile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    return float(np.quantile(np.asarray(values), q))


def markdown(result: dict[str, Any]) -> str:
    condition = "sala" if result["snr_db"] is None else f"{result['snr_db']:g} dB"
    lines = [
        f"Custo por política de decodificação: {result['itens']} itens da parte "
        f"{result['parte']}, {condition}"
        + (
            f", margem do audio_ctx {result['margem_audio_ctx']}"
            if "margem_audio_ctx" in result
            else ""
        ),
        "",
        "| política | decodif./fala | áudio/s fala | CPU-s/s fala | × única | recall | precisão "
        "| pronto antes do fim p50 / p90 | decodif. p50 |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for name, r in result.items():
        if not isinstance(r, dict):
            continue
        lines.append(
            f"| {name} | {_num(r['decodificacoes_por_fala'])} | {_num(r['audio_por_s_fala'])} "
            f"| {_num(r['cpu_por_s_fala'], 3)} | {_num(r['custo_relativo'])} "
            f"| {_pct(r['recall'])} | {_pct(r['precisao'])} "
            f"| {_num(r['antecedencia_p50_s'])} / {_num(r['antecedencia_p90_s'])} s "
            f"| {_num(r['decodificacao_p50_s'], 3)} s |"
        )
    return "\n".join(lines)


def _num(value: float | None, digits: int = 2) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{100 * value:.1f}%"


def run_for_bench(*, quick: bool, progress: Any = print) -> dict[str, Any]:
    """``make bench``'s part: the server's configured policy (at rest) and its economy policy
    (under load) against the single pass, every 4th tuning item (every 16th with ``quick``)
    at 10 dB."""
    config = CounterConfig.from_env()
    policies = {SINGLE: POLICIES[SINGLE], SERVER: DecodePolicy.from_config(config)}
    if policies[SERVER].economy:
        policies[ECONOMY] = POLICIES[ECONOMY]
    with WhisperTranscriber(
        default_model(), n_threads=config.asr_threads_per_worker, beam_size=config.asr_beam_size
    ) as transcriber:
        return run(
            policies,
            part="ajuste",
            every=16 if quick else 4,
            snr_db=10.0,
            transcriber=transcriber,
            progress=progress,
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.cost", description=__doc__)
    parser.add_argument("--parte", default="ajuste", choices=("ajuste", "reservada"))
    parser.add_argument("--amostra", type=int, default=1, help="every Nth labelled item")
    parser.add_argument("--snr", default="10", help="shop noise in dB, or 'sala' for none")
    parser.add_argument("--politicas", default=",".join(POLICIES), help="comma-separated")
    parser.add_argument("--saida", type=Path, default=RESULTS)
    parser.add_argument(
        "--margem",
        type=int,
        default=AUDIO_CTX_MARGIN,
        help=f"encoder positions of silence after the audio (default {AUDIO_CTX_MARGIN})",
    )
    args = parser.parse_args(argv)
    if args.margem < 0:
        parser.error("--margem: um inteiro >= 0")
    chosen = [name.strip() for name in args.politicas.split(",") if name.strip()]
    if unknown := set(chosen) - set(POLICIES):
        parser.error(f"políticas desconhecidas: {sorted(unknown)}")
    snr_db = None if args.snr == "sala" else float(args.snr)
    config = CounterConfig.from_env()

    def progress(message: str) -> None:
        print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)

    with WhisperTranscriber(
        default_model(),
        n_threads=config.asr_threads_per_worker,
        beam_size=config.asr_beam_size,
        audio_ctx_margin=args.margem,
    ) as transcriber:
        result = run(
            {name: POLICIES[name] for name in chosen},
            part=args.parte,
            every=args.amostra,
            snr_db=snr_db,
            transcriber=transcriber,
            progress=progress,
        )
    result["margem_audio_ctx"] = args.margem
    args.saida.parent.mkdir(parents=True, exist_ok=True)
    args.saida.write_text(json.dumps(result, indent=2, ensure_ascii=False))
    print(markdown(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
