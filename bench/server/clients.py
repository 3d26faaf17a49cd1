"""Benchmark clients: counters that talk in real time, and idle authenticated sockets.

A :class:`Counter` is a :class:`bench.counters.RealtimeCounter` (the simulation the soak tests
share) that streams its loop of sentences in shop noise. The moment the frame holding the last
speech sample of a sentence is sent is that sentence's end of speech. Each ``recomendar`` is
matched to the oldest still-unanswered complaint of the same categoria that had started by
then; a recommendation that matches none is a false one (or a repeat). Every recommendation
gets a feedback, as a real counter's clerk would give.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from functools import partial
from typing import Any

import numpy as np
import trio
from trio_websocket import ConnectionClosed, HandshakeError, WebSocketConnection

from bench.counters import CONNECT_TIMEOUT_S, FRAME_S, RealtimeCounter, connect
from bench.server.audio import CounterLoop, LoopBank

MATCH_HORIZON_S = 30.0  # a recommendation this late is no longer "for" that sentence
MISS_AFTER_S = 5.0  # a complaint with no recommendation within this is a miss
FEEDBACK_WAIT_S = 5.0


@dataclasses.dataclass(slots=True)
class Spoken:
    """One sentence as a counter said it."""

    counter: int
    text: str
    categoria: str | None
    started_at: float  # trio clock: its first speech frame was sent
    ended_at: float | None = None  # its last speech frame was sent
    answered_at: float | None = None  # its (matched) recommendation arrived
    false_recommendations: int = 0  # recommendations that arrived while it was current

    @property
    def delay_s(self) -> float | None:
        if self.ended_at is None or self.answered_at is None:
            return None
        return self.answered_at - self.ended_at


@dataclasses.dataclass(slots=True)
class Timing:
    start_at: float  # trio clock; set just before the counters are told to go
    talk_s: float
    drain_s: float


@dataclasses.dataclass(slots=True)
class CounterStats:
    spoken: list[Spoken] = dataclasses.field(default_factory=list)
    recommendations: int = 0
    repeats: int = 0  # a second recommendation for an already answered complaint
    stale: int = 0  # for a complaint of its categoria said more than MATCH_HORIZON_S ago
    wrong: int = 0  # unmatched, while a complaint of another categoria was current
    errors: list[str] = dataclasses.field(default_factory=list)  # "erro" replies, closes


class Counter(RealtimeCounter):
    """Streams its loop; matches each recommendation to the complaint it answers."""

    def __init__(self, index: int, api_key: str, loop: CounterLoop, start_frame: int) -> None:
        self.stats = CounterStats()
        super().__init__(index, api_key, errors=self.stats.errors)
        self.loop = loop
        self.start_frame = start_frame

    async def run(
        self, url: str, *, connected: Callable[[], None], go: trio.Event, timing: Timing
    ) -> None:
        """Connect and authenticate, call ``connected()``, wait for ``go``, then talk for
        ``timing.talk_s`` (finishing the sentence under way) and stream noise for
        ``timing.drain_s`` more; wait a little for the last feedback acks."""
        try:
            async with connect(url, self.api_key) as ws:
                connected()
                await go.wait()
                async with trio.open_nursery() as nursery:
                    nursery.start_soon(self.receive_until_closed, ws)
                    limit_s = timing.talk_s + timing.drain_s + self.loop.duration_s + 60
                    with trio.fail_after(limit_s):
                        await self._stream(ws, timing)
                    with trio.move_on_after(FEEDBACK_WAIT_S):
                        await self.feedback.drained.wait()
                    nursery.cancel_scope.cancel()
        except* (ConnectionClosed, HandshakeError, OSError, trio.TooSlowError) as group:
            for exc in group.exceptions:
                self.stats.errors.append(f"counter {self.index}: {type(exc).__name__}: {exc}")
        finally:
            connected()  # idempotent for the caller: a failed counter must not hold the start

    async def _stream(self, ws: WebSocketConnection, timing: Timing) -> None:
        loop = self.loop
        stats = self.stats
        talking = True
        current: Spoken | None = None
        stop_at: float | None = None
        t0 = timing.start_at + FRAME_S * (self.index % 10) / 10  # counters' frames interleave
        max_frames = int((timing.talk_s + timing.drain_s + loop.duration_s) / FRAME_S) + 1
        for k in range(max_frames):
            position = (self.start_frame + k) % loop.frames
            starting = loop.starting.get(position)
            if starting is not None and talking and trio.current_time() - t0 >= timing.talk_s:
                talking = False  # stop between sentences
            due = t0 + (k + 1) * FRAME_S  # this frame's audio has now been "recorded"
            await self.send_frame(ws, loop.frame(position, talking=talking), due)
            now = trio.current_time()
            if talking and starting is not None:
                sentence = loop.sentences[starting.sentence]
                current = Spoken(self.index, sentence.text, sentence.categoria, now)
                stats.spoken.append(current)
            if current is not None and current.ended_at is None and position in loop.ending:
                current.ended_at = now
            if not talking and stop_at is None:
                stop_at = now + timing.drain_s
            if stop_at is not None and now >= stop_at:
                return

    async def on_recommendation(
        self, ws: WebSocketConnection, message: dict[str, Any], now: float
    ) -> None:
        self.stats.recommendations += 1
        self._match(message.get("categoria"), now)
        await super().on_recommendation(ws, message, now)

    def _match(self, categoria: str | None, at: float) -> None:
        spoken = self.stats.spoken
        for sentence in spoken:  # oldest first
            if (
                sentence.categoria == categoria
                and sentence.answered_at is None
                and (sentence.ended_at is None or at - sentence.ended_at <= MATCH_HORIZON_S)
            ):
                sentence.answered_at = at
                return
        if any(
            s.categoria == categoria
            and s.answered_at is not None
            and s.ended_at is not None
            and at - s.ended_at <= MATCH_HORIZON_S
            for s in spoken
        ):
            self.stats.repeats += 1
            return
        if any(s.categoria == categoria and s.answered_at is None for s in spoken):
            self.stats.stale += 1  # overload: too late to be "for" anything said lately
            return
        current = spoken[-1] if spoken else None
        if current is not None and current.categoria is None:
            current.false_recommendations += 1
        else:
            self.stats.wrong += 1


def summarize(counters: list[Counter], *, talk_started: float) -> dict[str, Any]:
    """Delay percentiles, misses and false recommendations over every counter."""
    spoken = [s for c in counters for s in c.stats.spoken if s.ended_at is not None]
    complaints = [s for s in spoken if s.categoria is not None]
    neutral = [s for s in spoken if s.categoria is None]
    delays = [d for s in complaints if (d := s.delay_s) is not None]
    misses = [s for s in complaints if s.delay_s is None or s.delay_s > MISS_AFTER_S]
    false_neutral = [s for s in neutral if s.false_recommendations]
    stats = [c.stats for c in counters]
    feedback = [c.feedback for c in counters]
    by_sentence: dict[str, dict[str, Any]] = {}
    for s in spoken:
        entry = by_sentence.setdefault(
            s.text, {"categoria": s.categoria, "spoken": 0, "answered": 0, "false": 0}
        )
        entry["spoken"] += 1
        entry["answered"] += s.delay_s is not None and s.delay_s <= MISS_AFTER_S
        entry["false"] += s.false_recommendations > 0
    return {
        "complaints": len(complaints),
        "neutral": len(neutral),
        "delay_s": percentiles(delays),
        "misses": len(misses),
        "miss_rate": round(len(misses) / len(complaints), 3) if complaints else None,
        "false_on_neutral": len(false_neutral),
        "false_rate": round(len(false_neutral) / len(neutral), 3) if neutral else None,
        "repeats": sum(s.repeats for s in stats),
        "stale": sum(s.stale for s in stats),
        "wrong_categoria": sum(s.wrong for s in stats),
        "recommendations": sum(s.recommendations for s in stats),
        "feedback_sent": sum(f.count_sent for f in feedback),
        "feedback_acked": sum(f.count_acked for f in feedback),
        "client_send_lag_max_s": round(max((c.send_lag_max_s for c in counters), default=0.0), 3),
        "errors": [e for s in stats for e in s.errors][:20],
        "by_sentence": by_sentence,
        "delays": [
            (round(s.ended_at - talk_started, 2), round(d, 3))
            for s in complaints
            if s.ended_at is not None and (d := s.delay_s) is not None
        ],
    }


def percentiles(values: list[float]) -> dict[str, float | int | None]:
    if not values:
        return {"n": 0, "p50": None, "p95": None, "max": None, "mean": None}
    array = np.asarray(values, dtype=np.float64)
    return {
        "n": len(values),
        "p50": round(float(np.percentile(array, 50)), 3),
        "p95": round(float(np.percentile(array, 95)), 3),
        "max": round(float(array.max()), 3),
        "mean": round(float(array.mean()), 3),
    }


async def run_counters(
    url: str, api_keys: list[str], loops: LoopBank, *, talk_s: float, drain_s: float
) -> tuple[list[Counter], float]:
    """Run ``len(api_keys)`` counters together; return them and when they started talking."""
    counters = [
        Counter(i, key, loops.for_counter(i), loops.start_frame(i))
        for i, key in enumerate(api_keys)
    ]
    go = trio.Event()
    all_connected = trio.Event()
    pending = {counter.index for counter in counters}
    timing = Timing(0.0, talk_s, drain_s)

    def connected(index: int) -> None:
        pending.discard(index)
        if not pending:
            all_connected.set()

    async with trio.open_nursery() as nursery:
        for counter in counters:
            nursery.start_soon(
                partial(
                    counter.run,
                    url,
                    connected=partial(connected, counter.index),
                    go=go,
                    timing=timing,
                )
            )
        with trio.move_on_after(CONNECT_TIMEOUT_S):
            await all_connected.wait()
        timing.start_at = trio.current_time() + 0.2
        go.set()
    return counters, timing.start_at


# -- idle sockets -------------------------------------------------------------------------


@dataclasses.dataclass(slots=True)
class IdleResult:
    opened: int = 0
    failed: list[str] = dataclasses.field(default_factory=list)  # never opened
    dropped: int = 0  # closed by the server while held
    close_errors: int = 0  # the close handshake at the end failed
    connect_s: list[float] = dataclasses.field(default_factory=list)


async def hold_idle_sockets(
    url: str,
    api_keys: list[str],
    result: IdleResult,
    all_open: trio.Event,
    release: trio.Event,
    concurrency: int = 64,
) -> None:
    """Open and authenticate one socket per key (into ``result``); set ``all_open`` once
    every socket is open or failed; hold them all until ``release``."""
    handshakes = trio.Semaphore(concurrency)
    settled = [0]

    def settle() -> None:
        settled[0] += 1
        if settled[0] == len(api_keys):
            all_open.set()

    async def one(api_key: str) -> None:
        await handshakes.acquire()
        in_handshake = True
        opened = False
        started = trio.current_time()
        try:
            async with connect(url, api_key) as ws:
                result.connect_s.append(trio.current_time() - started)
                result.opened += 1
                opened = True
                handshakes.release()
                in_handshake = False
                settle()
                await release.wait()
                if ws.closed is not None:
                    result.dropped += 1
        except* (ConnectionClosed, HandshakeError, OSError, trio.TooSlowError) as group:
            if opened:
                result.close_errors += 1
            else:
                result.failed += [f"{type(exc).__name__}: {exc}" for exc in group.exceptions]
                settle()
        finally:
            if in_handshake:
                handshakes.release()

    async with trio.open_nursery() as nursery:
        for key in api_keys:
            nursery.start_soon(one, key)
