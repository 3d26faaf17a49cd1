"""Real speech end to end: espeak-ng Portuguese → real server → whisper.cpp → recommendation.

Streams sentences in real time with silences between them, like a counter. Each complaint must
yield its recommendation and each neutral sentence none; the feedback must land in SQLite.
The end-of-speech → recommendation delay is printed (``-s``), not asserted: speed belongs to
the benchmarks.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import trio
from bench.speech import espeak_available, silence, synthesize, to_pcm16
from trio_websocket import open_websocket_url

from balto.counter.asr.whisper import WhisperTranscriber
from tests.conftest import start_server
from tests.e2e.test_http import register
from tests.helpers import feedback

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not espeak_available(), reason="espeak-ng missing (make test installs it)"),
]

CHUNK_S = 0.1
SCRIPT = [  # (sentence, expected rule id or None)
    ("Boa tarde. Estou com muita dor nas costas.", "dor_costas_muscular"),
    ("Vocês têm protetor solar?", None),
    ("Estou com dor de garganta desde ontem.", "dor_garganta"),
    ("Vou pagar no cartão de crédito.", None),
]


@pytest.fixture(scope="session")
def model_path(base_model: Path) -> Path:
    return base_model


async def stream_real_time(ws, audio: np.ndarray, clock: float) -> float:
    """Send ``audio`` in 100 ms frames paced by the wall clock; return the pacing clock."""
    pcm = to_pcm16(audio)
    step = int(16000 * CHUNK_S) * 2
    for offset in range(0, len(pcm), step):
        await ws.send_message(pcm[offset : offset + step])
        clock += CHUNK_S
        await trio.sleep_until(clock)
    return clock


async def test_counter_conversation_in_real_time(nursery, tmp_path, model_path):
    running = await start_server(
        nursery, tmp_path, lambda: WhisperTranscriber(model_path, n_threads=2)
    )
    _, api_key = await register(running.port)
    received: list[tuple[float, dict]] = []
    starts: list[float] = []  # when each sentence's speech began and finished arriving
    ends: list[float] = []
    async with open_websocket_url(running.ws_url) as ws:
        await ws.send_message(json.dumps({"comando": "auth", "api_key": api_key}))
        assert json.loads(await ws.get_message())["comando"] == "auth_ok"

        async def collect() -> None:
            while True:
                message = json.loads(await ws.get_message())
                received.append((trio.current_time(), message))

        async with trio.open_nursery() as inner:
            inner.start_soon(collect)
            clock = trio.current_time()
            for sentence, _ in SCRIPT:
                speech = synthesize(sentence)
                clock = max(clock, trio.current_time())
                starts.append(clock)
                clock = await stream_real_time(ws, speech, clock)
                ends.append(trio.current_time())
                clock = await stream_real_time(ws, silence(2.5), clock)
            await trio.sleep(2)
            inner.cancel_scope.cancel()

        recommendations = [(at, m) for at, m in received if m["comando"] == "recomendar"]
        for _, message in recommendations:
            await ws.send_message(feedback(message["id_interacao"], "venda_realizada"))
            with trio.fail_after(10):
                assert json.loads(await ws.get_message())["comando"] == "feedback_ok"

    # each recommendation belongs to the sentence being spoken or just finished when it came
    windows = [*starts[1:], float("inf")]
    by_sentence: list[list[tuple[float, dict]]] = [[] for _ in SCRIPT]
    for at, message in recommendations:
        by_sentence[next(i for i, end in enumerate(windows) if at < end)].append((at, message))
    for (sentence, expected), got, end in zip(SCRIPT, by_sentence, ends, strict=True):
        if expected is None:
            assert got == [], (
                f"neutral {sentence!r} produced {[(m['categoria'], m['gatilho']) for _, m in got]}"
            )
            continue
        assert got, f"no recommendation for {sentence!r}"
        # negative: an interim decode fired before the customer stopped talking
        print(f"{sentence!r}: {got[0][1]['mensagem']} {got[0][0] - end:+.2f} s after speech end")

    db = running.database()
    stored = [db.interacao(m["id_interacao"]) for _, m in recommendations]
    db.close()
    assert all(row and row["resultado"] == "venda_realizada" for row in stored)
    assert {row["regra"] for row in stored} == {rule for _, rule in SCRIPT if rule}
    running.lifecycle.stop()
