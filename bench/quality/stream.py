"""False recommendations per hour of real neutral speech, streamed end to end.

The shared real recordings (read sentences, none of them about health) are dealt out to a few
counters; each streams its share in real time over the counter WebSocket of a real ``balto
serve`` (the bench's server process, default settings apart from the model), one second of
silence between recordings. Every ``recomendar`` is a false one; the server's own counters
say whether any audio or decode was dropped (a run that dropped speech measured less).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial
from typing import Any

import numpy as np
import trio
from trio_websocket import ConnectionClosed, HandshakeError, WebSocketConnection

from bench.counters import FRAME_S, RealtimeCounter, connect, pcm_frames
from bench.quality.data import Recording, read_wav
from bench.server.probes import metric
from bench.server.process import ServerSettings, balto_server
from bench.speech import silence, to_pcm16

Progress = Callable[[str], None]
GAP_S = 1.0
TAIL_S = 3.0  # after the last frame: the last utterance's decode


class NeutralCounter(RealtimeCounter):
    """Streams its recordings once; keeps every recommendation it gets."""

    def __init__(self, index: int, api_key: str, pcm: bytes) -> None:
        super().__init__(index, api_key)
        self.pcm = pcm
        self.recommendations: list[dict[str, Any]] = []

    async def on_recommendation(
        self, ws: WebSocketConnection, message: dict[str, Any], now: float
    ) -> None:
        self.recommendations.append(message)
        await super().on_recommendation(ws, message, now)

    async def run(self, url: str) -> None:
        try:
            async with connect(url, self.api_key) as ws, trio.open_nursery() as nursery:
                nursery.start_soon(self.receive_until_closed, ws)
                start = trio.current_time() + FRAME_S * (self.index % 10) / 10
                for k, frame in enumerate(pcm_frames(self.pcm)):
                    await self.send_frame(ws, frame, start + (k + 1) * FRAME_S)
                await trio.sleep(TAIL_S)
                nursery.cancel_scope.cancel()
        except* (ConnectionClosed, HandshakeError, OSError, trio.TooSlowError) as group:
            self.errors.extend(f"counter {self.index}: {exc!r}" for exc in group.exceptions)


def deal(recordings: Sequence[Recording], counters: int) -> list[bytes]:
    """The recordings dealt out to ``counters`` streams of about equal length."""
    shares: list[list[np.ndarray]] = [[] for _ in range(counters)]
    lengths = [0.0] * counters
    for recording in sorted(recordings, key=lambda r: -r.seconds):
        shortest = lengths.index(min(lengths))
        shares[shortest] += [read_wav(recording.file), silence(GAP_S)]
        lengths[shortest] += recording.seconds + GAP_S
    return [to_pcm16(np.concatenate([silence(GAP_S), *share])) for share in shares if share]


async def _stream_all(
    settings: ServerSettings, streams: list[bytes], progress: Progress
) -> dict[str, Any]:
    async with balto_server(settings) as server:
        keys = await server.register(len(streams))
        before = await server.metrics()
        counters = [
            NeutralCounter(i, key, pcm)
            for i, (key, pcm) in enumerate(zip(keys, streams, strict=True))
        ]
        seconds = max(len(pcm) for pcm in streams) / 32_000
        progress(f"  {len(counters)} balcões transmitindo fala real neutra por {seconds:.0f} s")
        async with trio.open_nursery() as nursery:
            for counter in counters:
                nursery.start_soon(partial(counter.run, server.ws_url))
        after = await server.metrics()

    def grew(name: str) -> float:
        return metric(after, name) - metric(before, name)

    heard_s = sum(len(pcm) for pcm in streams) / 32_000
    false = [m for c in counters for m in c.recommendations]
    return {
        "balcoes": len(counters),
        "horas_de_audio": round(heard_s / 3600, 3),
        "recomendacoes_falsas": len(false),
        "falsas_por_hora": len(false) / (heard_s / 3600),
        "quais": [{"regra": m.get("categoria"), "mensagem": m.get("mensagem")} for m in false],
        "audio_descartado_s": round(grew("balto_audio_dropped_seconds_total"), 2),
        "interinas_puladas": int(grew("balto_asr_jobs_superseded_total")),
        "erros": [e for c in counters for e in c.errors],
    }


def measure_false_alarms(
    settings: ServerSettings,
    recordings: Sequence[Recording],
    *,
    counters: int = 4,
    progress: Progress = print,
) -> dict[str, Any]:
    result = trio.run(_stream_all, settings, deal(recordings, counters), progress)
    progress(
        f"  falsas recomendações: {result['recomendacoes_falsas']} em "
        f"{result['horas_de_audio']:.2f} h = {result['falsas_por_hora']:.1f} por hora"
    )
    return result
