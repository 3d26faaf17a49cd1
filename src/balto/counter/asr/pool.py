"""The whisper worker pool: N transcribers (one whisper.cpp context each) serve every socket.

Jobs wait in a ``FairQueue``; each worker takes the next one and runs it in a worker thread
through ``trio.to_thread.run_sync`` with a ``CapacityLimiter`` (whisper.cpp releases the GIL).
With ``economy_load``, a :class:`LoadGauge` follows the share of workers decoding, and
:attr:`WhisperPool.busy` tells the sessions when to switch to their economy policy.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable, Hashable

import trio

from balto.core.errors import RecognizerError
from balto.counter.asr.base import DecodeOptions, Transcriber
from balto.counter.asr.fair import FairQueue, Job
from balto.counter.asr.load import DEFAULT_TAU_S, LoadGauge
from balto.counter.audio.types import SAMPLE_RATE_HZ, Audio
from balto.counter.metrics import CounterMetrics

log = logging.getLogger(__name__)


@dataclasses.dataclass(slots=True)
class _Pending:
    audio: Audio
    options: DecodeOptions
    done: trio.Event = dataclasses.field(default_factory=trio.Event)
    text: str | None = None
    error: RecognizerError | None = None
    abandoned: bool = False


class WhisperPool:
    def __init__(
        self,
        factory: Callable[[], Transcriber],
        *,
        workers: int,
        metrics: CounterMetrics,
        max_pending_per_owner: int = 4,
        finals_first: bool = False,
        economy_load: float = 0.0,
        economy_tau_s: float = DEFAULT_TAU_S,
    ) -> None:
        self._factory = factory
        self._workers = workers
        self._metrics = metrics
        self._queue: FairQueue[_Pending] = FairQueue(
            max_pending=max_pending_per_owner, finals_first=finals_first
        )
        self._queued = trio.Semaphore(0)
        self._limiter = trio.CapacityLimiter(workers)
        self._ready = trio.Event()
        self._running = 0  # decodes in flight
        self._busy_since_cpu_s = 0.0
        # 0: never busy (the sessions keep their full policy whatever the load)
        self._gauge = (
            LoadGauge(high=economy_load, tau_s=economy_tau_s) if economy_load > 0 else None
        )

    @property
    def ready(self) -> bool:
        return self._ready.is_set()

    @property
    def busy(self) -> bool:
        """The workers have been decoding ``economy_load`` of the time or more lately."""
        if self._gauge is None:
            return False
        busy = self._gauge.busy(trio.current_time())
        self._metrics.asr_economy.set(int(busy))
        return busy

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        """Load the transcribers, then serve jobs until cancelled."""
        transcribers: list[Transcriber] = []
        try:
            for _ in range(self._workers):
                transcribers.append(await trio.to_thread.run_sync(self._factory))
            self._ready.set()
            task_status.started()
            async with trio.open_nursery() as nursery:
                for transcriber in transcribers:
                    nursery.start_soon(self._work, transcriber)
        finally:
            with trio.CancelScope(shield=True):
                for transcriber in transcribers:
                    await trio.to_thread.run_sync(transcriber.close)

    async def transcribe(
        self, owner: Hashable, audio: Audio, options: DecodeOptions, *, interim: bool = False
    ) -> str | None:
        pending = _Pending(audio, options)
        displaced = self._queue.put(Job(owner, pending, interim, trio.current_time()))
        # one semaphore token per queued job: one for the new job, back for each displaced one
        self._queued.release()
        for job in displaced:
            self._queued.acquire_nowait()
            if job.interim:
                self._metrics.asr_jobs_superseded.inc()
            else:
                self._metrics.audio_dropped_seconds.inc(len(job.payload.audio) / SAMPLE_RATE_HZ)
            job.payload.done.set()  # its text stays None: no recommendation from it
        try:
            await pending.done.wait()
        except trio.Cancelled:
            pending.abandoned = True
            raise
        if pending.error is not None:
            raise pending.error
        return pending.text

    async def _work(self, transcriber: Transcriber) -> None:
        while True:
            await self._queued.acquire()
            job = self._queue.get()
            if job is None:  # cannot happen: one release per queued job
                continue
            pending = job.payload
            if pending.abandoned:
                continue
            self._metrics.asr_queue_lag.observe(trio.current_time() - job.enqueued_at)
            started = time.perf_counter()
            self._busy(+1)
            try:
                # One job is one isolated unit: a bug in it fails that decode (the counter gets
                # no recommendation from it), never the worker or the server.
                with self._metrics.boundary.guard("asr_job", str(job.owner)) as guard:
                    try:
                        pending.text = await trio.to_thread.run_sync(
                            transcriber.transcribe,
                            pending.audio,
                            pending.options,
                            limiter=self._limiter,
                        )
                    except RecognizerError as exc:
                        log.warning("decode failed: %s", exc)
                        pending.error = exc
                if guard.crashed is not None:
                    pending.error = RecognizerError("Erro interno no reconhecimento")
                if pending.error is not None:
                    self._metrics.asr_failures.inc()
            finally:
                self._busy(-1)
                self._metrics.asr_decode.observe(time.perf_counter() - started)
                self._metrics.asr_audio_seconds.inc(len(pending.audio) / SAMPLE_RATE_HZ)
                pending.done.set()

    def _busy(self, change: int) -> None:
        """Recognition's CPU cost: the process's CPU time over the spans when a decode runs.

        whisper.cpp computes on the calling thread and its own OpenMP threads, so no single
        thread's clock holds a decode's cost; over these spans the process does little else
        (the event loop's share is counted too, on the safe side).
        """
        if change > 0 and self._running == 0:
            self._busy_since_cpu_s = time.process_time()
        self._running += change
        if self._gauge is not None:
            self._gauge.report(trio.current_time(), self._running / self._workers)
        if change < 0 and self._running == 0:
            self._metrics.asr_cpu_seconds.inc(time.process_time() - self._busy_since_cpu_s)
