"""``python -m bench.quality``: the recognition-quality report from one command."""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from pathlib import Path
from typing import Any

from balto.counter.asr.whisper import WhisperTranscriber
from balto.counter.config import CounterConfig
from balto.counter.detect.loader import default_rules, load_rules
from balto.counter.pipeline import decode_options
from bench.quality import labelled, real, stream
from bench.quality.data import PARTS as PARTES
from bench.quality.data import REPO, labelled_items, real_recordings
from bench.quality.pipeline import hearing, reading
from bench.quality.report import markdown
from bench.server.process import ServerSettings
from bench.server.settings import default_model

RESULTS = REPO / "bench" / "results"
PARTS = ("wer", "oportunidades", "fluxo")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.quality", description=__doc__)
    parser.add_argument("partes", nargs="*", metavar="{wer,oportunidades,fluxo}")
    parser.add_argument("--modelo", type=Path, default=None, help="ggml model (default: base)")
    parser.add_argument("--rapido", action="store_true", help="a small subset of each part")
    parser.add_argument("--regras", type=Path, default=None, help="a rule file (default: built-in)")
    parser.add_argument("--feixe", type=int, default=None, help="beam size (ASR_BEAM_SIZE)")
    parser.add_argument("--com-prompt", action="store_true", help="the old vocabulary prompt")
    parser.add_argument("--balcoes", type=int, default=4, help="counters streaming (fluxo)")
    parser.add_argument(
        "--condicoes",
        default="sala,10,5",
        help="conditions of the labelled set: 'sala' (room, no noise) and/or SNRs in dB",
    )
    parser.add_argument(
        "--parte", choices=PARTES, default=None, help="only one part of the labelled set"
    )
    parser.add_argument(
        "--amostra", type=int, default=1, help="every Nth labelled item (quicker comparisons)"
    )
    parser.add_argument("--saida", type=Path, default=RESULTS / "quality.json")
    args = parser.parse_args(argv)
    parts = args.partes or list(PARTS)
    if unknown := set(parts) - set(PARTS):
        parser.error(f"parte(s) desconhecida(s): {', '.join(sorted(unknown))}")

    def progress(message: str) -> None:
        print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)

    try:
        conditions = _conditions(args.condicoes)
    except ValueError:
        parser.error(f"--condicoes inválidas: {args.condicoes!r}")
    config = CounterConfig.from_env(asr_beam_size=args.feixe)
    model = args.modelo or default_model()
    rules = load_rules(args.regras.read_bytes()) if args.regras else default_rules()
    server = decode_options(config.language)
    prompt = rules.vocabulary_prompt() if args.com_prompt else None
    options = server if prompt is None else dataclasses.replace(server, prompt=prompt)
    results: dict[str, Any] = {
        "modelo": str(model),
        "prompt": options.prompt,
        "feixe": config.asr_beam_size,
    }
    threads = config.asr_threads_per_worker
    with WhisperTranscriber(
        model, n_threads=threads, beam_size=config.asr_beam_size
    ) as transcriber:
        if "wer" in parts:
            recordings = real_recordings()
            if args.rapido:
                recordings = recordings[:10] + [r for r in recordings if r.source == "cetuc"][:10]
            progress(f"WER em {len(recordings)} gravações reais")
            results["wer"] = real.measure_wer(
                transcriber, options, recordings, rules, progress=progress
            )
        if "oportunidades" in parts:
            items = [i for i in labelled_items() if args.parte in (None, i.parte)]
            items = items[:: max(1, args.amostra)]
            if args.rapido:
                items = items[::10]
            progress(f"oportunidades em {len(items)} itens rotulados")
            hear = hearing(transcriber, config, rules, prompt=prompt)
            results["oportunidades"] = labelled.measure_opportunities(
                hear, items, conditions=conditions, progress=progress
            )
            results["leitura"] = labelled.measure_reading(reading(rules), items)
    if "fluxo" in parts:
        recordings = real_recordings()
        if args.rapido:
            recordings = recordings[:12]
        # The server's own policy (no prompt: --com-prompt does not apply here), its beam.
        beam = {"ASR_BEAM_SIZE": str(config.asr_beam_size)}
        settings = ServerSettings(model_path=model, cooldown_s=60.0, extra_env=beam)
        results["fluxo"] = stream.measure_false_alarms(
            settings, recordings, counters=args.balcoes, progress=progress
        )
    args.saida.parent.mkdir(parents=True, exist_ok=True)
    args.saida.write_text(json.dumps(results, indent=2, ensure_ascii=False))
    table = markdown(results)
    args.saida.with_suffix(".md").write_text(table + "\n")
    print(table)
    progress(f"resultados em {args.saida} e {args.saida.with_suffix('.md')}")
    return 0


def _conditions(text: str) -> dict[str, float | None]:
    """``"sala,10"`` → ``{"sala sem ruído": None, "10 dB": 10.0}``."""
    found: dict[str, float | None] = {}
    for word in filter(None, (w.strip() for w in text.split(","))):
        if word == "sala":
            found["sala sem ruído"] = None
        else:
            found[f"{float(word):g} dB"] = float(word)
    if not found:
        raise ValueError(text)
    return found
