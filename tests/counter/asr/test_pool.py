"""The whisper worker pool's cost accounting, with a transcriber that spends real CPU."""

from __future__ import annotations

import time

import numpy as np
import trio

from balto.counter.asr.base import DecodeOptions
from balto.counter.asr.pool import WhisperPool
from balto.counter.metrics import CounterMetrics

BURN_S = 0.05


class BurningTranscriber:
    """Spends ``BURN_S`` of CPU on its thread per decode, then says what it heard."""

    def transcribe(self, audio: np.ndarray, options: DecodeOptions) -> str:
        deadline = time.thread_time() + BURN_S
        while time.thread_time() < deadline:
            pass
        return "ok"

    def close(self) -> None:
        pass


def counter(metrics: CounterMetrics, name: str) -> float:
    value = metrics.registry.get_sample_value(name)
    assert value is not None, name
    return value


async def test_decode_cpu_is_counted_once_however_many_decodes_overlap():
    metrics = CounterMetrics()
    pool = WhisperPool(BurningTranscriber, workers=2, metrics=metrics)
    audio = np.zeros(16_000, dtype=np.float32)
    async with trio.open_nursery() as nursery:
        await nursery.start(pool.run)
        texts: list[str | None] = []

        async def one(owner: str) -> None:
            texts.append(await pool.transcribe(owner, audio, DecodeOptions()))

        async with trio.open_nursery() as decodes:
            for owner in ("a", "b", "c", "d"):
                decodes.start_soon(one, owner)
        nursery.cancel_scope.cancel()
    assert texts == ["ok"] * 4
    cpu = counter(metrics, "balto_asr_cpu_seconds_total")
    # four decodes of BURN_S each (the GIL serialises the busy loops): about 0.2 s of CPU,
    # not twice that for the spans when two ran at once
    assert 4 * BURN_S * 0.9 <= cpu <= 4 * BURN_S + 0.15
    assert counter(metrics, "balto_asr_decoded_audio_seconds_total") == 4.0


class SleepingTranscriber:
    """Holds its worker for 20 ms per decode without using the CPU."""

    def transcribe(self, audio: np.ndarray, options: DecodeOptions) -> str:
        time.sleep(0.02)
        return "ok"

    def close(self) -> None:
        pass


async def test_the_pool_is_busy_while_its_workers_keep_decoding_and_idle_after():
    metrics = CounterMetrics()
    pool = WhisperPool(
        SleepingTranscriber, workers=1, metrics=metrics, economy_load=0.5, economy_tau_s=0.05
    )
    audio = np.zeros(1_600, dtype=np.float32)
    async with trio.open_nursery() as nursery:
        await nursery.start(pool.run)
        assert not pool.busy
        for _ in range(15):  # 0.3 s of back-to-back decodes: six time constants
            await pool.transcribe("a", audio, DecodeOptions())
        assert pool.busy
        assert counter(metrics, "balto_asr_economy") == 1
        await trio.sleep(0.3)  # idle for six time constants
        assert not pool.busy
        assert counter(metrics, "balto_asr_economy") == 0
        nursery.cancel_scope.cancel()


async def test_without_an_economy_load_the_pool_is_never_busy():
    pool = WhisperPool(SleepingTranscriber, workers=1, metrics=CounterMetrics())
    audio = np.zeros(1_600, dtype=np.float32)
    async with trio.open_nursery() as nursery:
        await nursery.start(pool.run)
        for _ in range(15):
            await pool.transcribe("a", audio, DecodeOptions())
        assert not pool.busy
        nursery.cancel_scope.cancel()
