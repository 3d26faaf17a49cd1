"""Soak: many counters talking in real time plus registration traffic, over loopback.

Everything is real except recognition, a scripted double that hears the same complaint in
every decode (fast and deterministic), with the cooldown off so that every interim and final
decode becomes a recommendation, a stored interaction and a feedback. Asserted: no errors
(every HTTP answer 201, every socket stays open, every feedback acknowledged), every
acknowledged registration and feedback is in SQLite, and the process memory is flat.

CI runs it for ~15 s; ``SOAK_SECONDS=600 pytest tests/robustness/test_soak.py -s`` soaks.
The second test stops the server (graceful shutdown) in the middle of the same traffic.
The counters are :class:`bench.counters.RealtimeCounter`, the load benchmark's simulation.
"""

from __future__ import annotations

import dataclasses
import os
import secrets
import sqlite3
import threading
import time
from functools import partial
from pathlib import Path

import h11
import numpy as np
import trio
from bench.counters import FRAME_S, Feedback, RealtimeCounter, connect, pcm_frames
from bench.speech import to_pcm16
from trio_websocket import ConnectionClosed, HandshakeError, WebSocketConnection

from balto.counter.asr.base import DecodeOptions
from tests.conftest import RunningServer, start_server
from tests.e2e.test_http import CLIENTE
from tests.helpers import http, request_on

#: The registrars post cadastro/cliente from one address far above the per-address limit.
OPEN_REGISTRATIONS = 1_000_000

SOAK_S = float(os.environ.get("SOAK_SECONDS", "15"))
COUNTERS = 6
REGISTRARS = 2
COMPLAINT = "Estou com uma dor de cabeça muito forte."
SPEECH_S = 2.0  # one "utterance": an interim decode at 1.5 s, a final one after it
PAUSE_S = 1.0
RSS_BOUND_MB = 30.0


class ComplaintTranscriber:
    """A scripted recogniser: every decode hears ``COMPLAINT`` after a little compute."""

    def __init__(self) -> None:
        self.calls = 0
        self._lock = threading.Lock()

    def transcribe(self, audio: np.ndarray, options: DecodeOptions) -> str:
        with self._lock:
            self.calls += 1
        time.sleep(0.005)  # a pool thread, off the event loop
        return COMPLAINT

    def close(self) -> None:
        pass


def voiced(seconds: float, f0: float) -> np.ndarray:
    """Speech-like sound the VAD accepts: a harmonic series at ``f0`` with vibrato and a
    syllabic (4 Hz) envelope."""
    t = np.arange(round(seconds * 16000)) / 16000
    phase = 2 * np.pi * np.cumsum(f0 * (1 + 0.05 * np.sin(2 * np.pi * 3 * t))) / 16000
    tone = sum((0.6 / k) * np.sin(k * phase) for k in range(1, 20))
    return (0.2 * tone * (0.55 + 0.45 * np.sin(2 * np.pi * 4 * t))).astype(np.float32)


def frames(audio: np.ndarray) -> list[bytes]:
    return pcm_frames(to_pcm16(audio))


def rss_mb() -> float:
    return int(Path("/proc/self/statm").read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def p95(values: list[float]) -> str:
    return f"{np.percentile(values, 95):.3f} s" if values else "–"


@dataclasses.dataclass
class Traffic:
    """What the clients saw; the assertions compare it with the database."""

    emails: list[str] = dataclasses.field(default_factory=list)  # 201-acknowledged
    api_keys: list[str] = dataclasses.field(default_factory=list)
    http_latency: list[float] = dataclasses.field(default_factory=list)
    sent: dict[str, str] = dataclasses.field(default_factory=dict)  # id → resultado sent
    acked: dict[str, str] = dataclasses.field(default_factory=dict)  # id → resultado acked
    recommendations: int = 0
    delays: list[float] = dataclasses.field(default_factory=list)  # end of speech → final rec
    feedback_rtt: list[float] = dataclasses.field(default_factory=list)
    audio_s: float = 0.0
    errors: list[str] = dataclasses.field(default_factory=list)
    refused: list[str] = dataclasses.field(default_factory=list)  # after stop(): expected
    changed: trio.Event = dataclasses.field(default_factory=trio.Event)  # any ack or rec
    close_codes: list[int | None] = dataclasses.field(default_factory=list)


async def register_counter(port: int, tag: str) -> str:
    r = await http(port, "POST", "/cadastro/cliente", dict(CLIENTE, email=f"{tag}@soak.com.br"))
    assert r.status == 201, r.body
    r = await http(
        port, "POST", "/cadastro/balcao", {"nome_balcao": tag, "user_codigo": r.json()["codigo"]}
    )
    assert r.status == 201, r.body
    return str(r.json()["api_key"])


async def post(port: int, path: str, body: dict) -> tuple[int, dict] | None:
    """One POST on a fresh connection; None when the server closed it without answering
    (a connection it accepted just before shutting down)."""
    stream = await trio.open_tcp_stream("127.0.0.1", port)
    async with stream:
        try:
            r = await request_on(stream, h11.Connection(h11.CLIENT), "POST", path, body)
        except AssertionError:  # request_on's "no response": the server hung up first
            return None
    return r.status, r.json()


async def registrar(
    port: int, name: str, traffic: Traffic, deadline: float, *, stopping: trio.Event | None = None
) -> None:
    """POST cadastro/cliente then cadastro/balcao, ~10 times a second, until ``deadline``.

    With ``stopping`` (the shutdown test) the loop ends quietly once the server, having been
    told to stop, refuses or drops a request; any such answer is recorded in ``refused``."""
    for i in range(100_000):
        if trio.current_time() >= deadline:
            return
        email = f"{name}-{i}@soak.com.br"
        try:
            started = trio.current_time()
            got = await post(port, "/cadastro/cliente", dict(CLIENTE, email=email))
            traffic.http_latency.append(trio.current_time() - started)
            if got is None or got[0] != 201:
                _refused(traffic, "cadastro/cliente", got, stopping)
                return
            traffic.emails.append(email)
            started = trio.current_time()
            body = {"nome_balcao": f"{name} {i}", "user_codigo": got[1]["codigo"]}
            got = await post(port, "/cadastro/balcao", body)
            traffic.http_latency.append(trio.current_time() - started)
            if got is None or got[0] != 201:
                _refused(traffic, "cadastro/balcao", got, stopping)
                return
            traffic.api_keys.append(got[1]["api_key"])
        except (OSError, h11.ProtocolError, trio.BrokenResourceError) as exc:
            _refused(traffic, f"{name}: {type(exc).__name__}: {exc}", None, stopping)
            return
        await trio.sleep(0.1)


def _refused(
    traffic: Traffic, what: str, got: tuple[int, dict] | None, stopping: trio.Event | None
) -> None:
    if stopping is not None and stopping.is_set():
        traffic.refused.append(f"{what}: {got}")
    else:
        traffic.errors.append(f"{what}: {got}")


class SoakCounter(RealtimeCounter):
    """Streams utterances in real time; answers every recommendation with a feedback.

    With ``hold_back`` every other recommendation's feedback waits in ``held`` until the
    test sends them all at once (feedback in flight when the server stops)."""

    def __init__(self, index: int, api_key: str, traffic: Traffic, *, hold_back: bool = False):
        feedback = Feedback(traffic.sent, traffic.acked, traffic.feedback_rtt)
        super().__init__(index, api_key, feedback=feedback, errors=traffic.errors)
        self.traffic = traffic
        self.hold_back = hold_back
        self.held: list[str] = []
        self.ws: WebSocketConnection | None = None
        self.speech_ended: float | None = None  # the current utterance finished at
        self.in_speech = False
        self.speech = frames(voiced(SPEECH_S, 110.0 + 15 * index))
        self.pause = frames(np.zeros(round(PAUSE_S * 16000), dtype=np.float32))

    async def run(self, url: str, stop_talking_at: float, *, expect_close: bool = False) -> None:
        code: int | None = None
        try:
            async with connect(url, self.api_key, timeout_s=10) as ws:
                self.ws = ws
                async with trio.open_nursery() as nursery:
                    nursery.start_soon(self.receive, ws)
                    await self._talk(ws, stop_talking_at)
                    with trio.fail_after(15):
                        await self.feedback.drained.wait()
                    if expect_close:  # the server closes it; keep listening until then
                        await trio.sleep_forever()
                    nursery.cancel_scope.cancel()
        except* ConnectionClosed as group:
            closed = group.exceptions[0]
            assert isinstance(closed, ConnectionClosed)
            code = int(closed.reason.code) if closed.reason else None
            if not expect_close:
                self.traffic.errors.append(f"counter {self.index}: closed {closed.reason}")
        except* (HandshakeError, OSError, trio.TooSlowError) as group:
            self.traffic.errors += [f"counter {self.index}: {e!r}" for e in group.exceptions]
        self.traffic.close_codes.append(code)

    async def _talk(self, ws: WebSocketConnection, stop_talking_at: float) -> None:
        clock = trio.current_time() + 0.3 * self.index  # counters out of step
        for _ in range(1_000_000):
            if clock >= stop_talking_at:
                break
            self.in_speech = True
            clock = await self._stream(ws, self.speech, clock)
            self.speech_ended = trio.current_time()
            self.in_speech = False
            clock = await self._stream(ws, self.pause, clock)

    async def _stream(self, ws: WebSocketConnection, frames: list[bytes], clock: float) -> float:
        for frame in frames:
            clock += FRAME_S
            await self.send_frame(ws, frame, clock)
            self.traffic.audio_s += FRAME_S
        return clock

    def on_message(self, message: dict, now: float) -> None:
        self.traffic.changed.set()
        self.traffic.changed = trio.Event()

    async def on_recommendation(self, ws: WebSocketConnection, message: dict, now: float) -> None:
        traffic = self.traffic
        traffic.recommendations += 1
        if not self.in_speech and self.speech_ended is not None:
            traffic.delays.append(now - self.speech_ended)
        if self.hold_back and traffic.recommendations % 2:
            self.held.append(message["id_interacao"])
        else:
            await super().on_recommendation(ws, message, now)

    async def send_held(self) -> int:
        """Send every held-back feedback at once; how many there were."""
        ids, self.held = self.held, []
        if ids:
            assert self.ws is not None
            await self.feedback.send(self.ws, ids)
        return len(ids)


def check_database(running: RunningServer, traffic: Traffic) -> None:
    """Every acknowledged registration and feedback is on disk."""
    conn = sqlite3.connect(running.config.db_file)
    try:
        emails = {row[0] for row in conn.execute("SELECT email FROM clientes")}
        results = dict(
            conn.execute("SELECT id, resultado FROM interacoes WHERE resultado IS NOT NULL")
        )
        interactions = conn.execute("SELECT count(*) FROM interacoes").fetchone()[0]
    finally:
        conn.close()
    assert [e for e in traffic.emails if e not in emails] == []
    assert {i: r for i, r in traffic.acked.items() if results.get(i) != r} == {}
    assert interactions >= traffic.recommendations
    db = running.database()
    try:
        assert [k for k in traffic.api_keys if db.authenticate(k) is None] == []
    finally:
        db.close()


async def test_soak_counters_and_registrations(nursery, tmp_path):
    transcriber = ComplaintTranscriber()
    running = await start_server(
        nursery,
        tmp_path,
        lambda: transcriber,
        recommendation_cooldown_s=0.0,
        asr_workers=2,
        cadastro_cliente_burst=OPEN_REGISTRATIONS,
    )
    tag = secrets.token_hex(3)
    keys = [await register_counter(running.port, f"soak-{tag}-{i}") for i in range(COUNTERS)]
    traffic = Traffic()
    samples: list[tuple[float, float]] = []
    warm_up_s = min(5.0, SOAK_S / 3)

    async def sample_memory(until: float) -> None:
        started = trio.current_time()
        for _ in range(1_000_000):
            samples.append((trio.current_time() - started, rss_mb()))
            if trio.current_time() >= until:
                return
            await trio.sleep(1.0)

    started = trio.current_time()
    stop_at = started + SOAK_S
    counters = [SoakCounter(i, key, traffic) for i, key in enumerate(keys)]
    with trio.fail_after(SOAK_S + 60):
        async with trio.open_nursery() as clients:
            clients.start_soon(sample_memory, stop_at)
            for r in range(REGISTRARS):
                clients.start_soon(registrar, running.port, f"reg-{tag}-{r}", traffic, stop_at)
            for counter in counters:
                clients.start_soon(counter.run, running.ws_url, stop_at)
    elapsed = trio.current_time() - started

    after_warm_up = next(mb for at, mb in samples if at >= warm_up_s)
    growth_mb = samples[-1][1] - after_warm_up
    print(
        f"\nsoak {elapsed:.0f} s: {COUNTERS} counters ({traffic.audio_s:.0f} s of audio,"
        f" {transcriber.calls} decodes), {traffic.recommendations} recommendations,"
        f" {len(traffic.acked)}/{len(traffic.sent)} feedback acked,"
        f" {len(traffic.emails)} clientes + {len(traffic.api_keys)} balcões registered"
        f" ({len(traffic.http_latency) / elapsed:.1f} requests/s)\n"
        f"  p95: speech end → final recommendation {p95(traffic.delays)},"
        f" feedback round trip {p95(traffic.feedback_rtt)}, HTTP {p95(traffic.http_latency)}\n"
        f"  RSS: {after_warm_up:.1f} MB after {warm_up_s:.0f} s warm-up,"
        f" {samples[-1][1]:.1f} MB at the end ({growth_mb:+.1f} MB)"
    )
    assert traffic.errors == []
    assert traffic.close_codes == [None] * COUNTERS  # every socket open until the client left
    assert traffic.recommendations >= COUNTERS, "the soak produced no load: it proves nothing"
    assert traffic.emails and len(traffic.api_keys) == len(traffic.emails)
    assert traffic.sent.keys() == traffic.acked.keys()
    check_database(running, traffic)
    assert growth_mb < RSS_BOUND_MB
    running.lifecycle.stop()


async def test_graceful_shutdown_under_load(tmp_path):
    """lifecycle.stop() while counters stream and feedback is in flight: every socket closes
    with 1001 and every acknowledged feedback (and registration) is on disk."""
    transcriber = ComplaintTranscriber()
    traffic = Traffic()
    stopping = trio.Event()
    async with trio.open_nursery() as server_nursery:
        running = await start_server(
            server_nursery,
            tmp_path,
            lambda: transcriber,
            recommendation_cooldown_s=0.0,
            cadastro_cliente_burst=OPEN_REGISTRATIONS,
        )
        tag = secrets.token_hex(3)
        keys = [await register_counter(running.port, f"stop-{tag}-{i}") for i in range(4)]
        counters = [SoakCounter(i, key, traffic, hold_back=True) for i, key in enumerate(keys)]
        with trio.fail_after(60):
            async with trio.open_nursery() as clients:
                far = trio.current_time() + 3600
                for r in range(REGISTRARS):
                    clients.start_soon(
                        partial(
                            registrar,
                            running.port,
                            f"stop-{tag}-{r}",
                            traffic,
                            far,
                            stopping=stopping,
                        )
                    )
                for counter in counters:
                    clients.start_soon(partial(counter.run, running.ws_url, far, expect_close=True))
                for _ in range(100_000):  # until enough feedback is held back and acked
                    if sum(len(c.held) for c in counters) >= 8 and len(traffic.acked) >= 4:
                        break
                    await traffic.changed.wait()
                held = 0
                for counter in counters:  # a burst of feedback, then stop at once
                    held += await counter.send_held()
                stopping.set()
                running.lifecycle.stop()
    print(
        f"\nshutdown under load: {len(traffic.sent)} feedback sent ({held} in a burst just"
        f" before stop), {len(traffic.acked)} acked; {len(traffic.emails)} registrations"
        f" acked, {len(traffic.refused)} refused after stop; close codes {traffic.close_codes}"
    )
    assert held >= 8 and len(traffic.acked) >= 4
    assert traffic.close_codes == [1001] * len(counters)
    assert traffic.errors == []
    check_database(running, traffic)
