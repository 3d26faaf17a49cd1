"""The quality report as Markdown tables (Portuguese, as the README shows them)."""

from __future__ import annotations

from typing import Any

from bench.quality.data import PARTS


def pct(value: float | None, digits: int = 1) -> str:
    return "—" if value is None else f"{100 * value:.{digits}f}%"


def num(value: float | None, digits: int = 3) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
    return lines + ["| " + " | ".join(row) + " |" for row in rows]


def markdown(results: dict[str, Any]) -> str:
    out: list[str] = []
    if wer := results.get("wer"):
        out += ["**Fala real** (`../shared/speech/real`), WER e custo por segundo de áudio:", ""]
        first = next(iter(wer.values()))
        sources = [g for g in ("ttspt", "lapsbm", "ufpalign", "outras", "cetuc") if g in first]
        rows = []
        for condition, groups in wer.items():
            todas = groups.get("todas", {})
            rows.append(
                [
                    condition,
                    *(pct(groups.get(g, {}).get("wer")) for g in sources),
                    num(todas.get("wall_por_s_audio")),
                    num(todas.get("cpu_por_s_audio")),
                ]
            )
        header = [
            "condição",
            *(f"WER {g} ({first[g]['arquivos']})" for g in sources),
            "s/s áudio",
            "CPU-s/s áudio",
        ]
        out += [*_table(header, rows), ""]
    if ops := results.get("oportunidades"):
        out += ["**Oportunidades** no conjunto rotulado, vozes naturais na sala do balcão:", ""]
        rows = []
        for condition, parts in ops.items():
            for part in PARTS:
                s = parts[part]
                rows.append(
                    [
                        condition,
                        part,
                        pct(s["recall_frases"]),
                        pct(s["precisao"]),
                        f"{s['neutras_com_alarme']}/{s['neutras']}",
                        pct(s.get("wer")),
                    ]
                )
        if reading := results.get("leitura"):
            for part in PARTS:
                s = reading[part]
                rows.append(
                    [
                        "*texto exato*",
                        part,
                        pct(s["recall_frases"]),
                        pct(s["precisao"]),
                        f"{s['neutras_com_alarme']}/{s['neutras']}",
                        "0.0%",
                    ]
                )
        header = [
            "condição",
            "parte",
            "recall (frases)",
            "precisão",
            "neutras com alarme",
            "WER do ouvido",
        ]
        out += [*_table(header, rows), ""]
        target = ops.get("10 dB")
        if target:
            out += ["Por regra, sala do balcão a 10 dB (recall / precisão):", ""]
            rules = sorted(set().union(*(target[p]["por_regra"] for p in PARTS)))
            rows = []
            for rule in rules:
                row = [f"`{rule}`"]
                for part in PARTS:
                    r = target[part]["por_regra"].get(rule)
                    row.append(
                        "—" if r is None else f"{pct(r['recall'], 0)} / {pct(r['precisao'], 0)}"
                    )
                rows.append(row)
            out += [*_table(["regra", *PARTS], rows), ""]
            voices = target.get("por_voz", {})
            if voices:
                cells = ", ".join(f"`{v}` {pct(r, 0)}" for v, r in voices.items())
                out += [
                    f"Recall das queixas por voz do cliente (as duas partes, 10 dB): {cells}.",
                    "",
                ]
            wer_voices = target.get("wer_por_voz", {})
            if wer_voices:
                cells = ", ".join(f"`{v}` {pct(r, 0)}" for v, r in wer_voices.items())
                out += [f"WER do ouvido por voz do cliente (10 dB): {cells}.", ""]
    if stream := results.get("fluxo"):
        out += [
            f"**Falsas recomendações na fala real neutra**, transmitida em tempo real por "
            f"{stream['balcoes']} balcões a um servidor de verdade: "
            f"{stream['recomendacoes_falsas']} em {stream['horas_de_audio']:.2f} h "
            f"= **{stream['falsas_por_hora']:.1f} por hora** "
            f"(áudio descartado: {stream['audio_descartado_s']} s).",
            "",
        ]
    return "\n".join(out)
