"""The Trio shell of a counter WebSocket.

After auth, each socket gets its own nursery with: the receiver (messages → ring buffer or
command channel), recognition (segment → whisper pool → opportunity detector → interaction),
commands (feedback → database), one sender, and a watcher that closes with 1001 on shutdown.
What to say and when to close is decided by :mod:`protocol`, which jobs to decode by
:mod:`scheduler`; this module only awaits, sends :func:`events.encode`'s text, and counts.
"""

from __future__ import annotations

import dataclasses
import logging

import trio
import trio_websocket

from balto.core.errors import BaltoError, RecognizerError, StorageError
from balto.core.http.upgrade import WebSocket, WebSocketUpgrade
from balto.core.lifecycle import Lifecycle
from balto.counter.admin.feed import FeedHub
from balto.counter.asr.base import Recognizer
from balto.counter.audio.segmenter import DecodeJob
from balto.counter.audio.types import SAMPLE_RATE_HZ
from balto.counter.config import CounterConfig
from balto.counter.coord.bus import Coordinator
from balto.counter.coord.limits import RateLimits
from balto.counter.detect import Opportunity
from balto.counter.metrics import CounterMetrics
from balto.counter.pipeline import counter_pipeline
from balto.counter.store import Balcao, Store
from balto.counter.ws import protocol
from balto.counter.ws.events import (
    FeedbackOk,
    OutgoingEvent,
    Recommendation,
    encode,
    feedback_refused,
)
from balto.counter.ws.intake import AudioIntake
from balto.counter.ws.live import LiveSessions
from balto.counter.ws.rules_cache import RulesCache
from balto.counter.ws.scheduler import Decode, Skip
from balto.counter.ws.session_feed import SessionFeed

log = logging.getLogger(__name__)

OUTBOX_SIZE = 64
COMMANDS_SIZE = 16


@dataclasses.dataclass(frozen=True, slots=True)
class CounterServices:
    config: CounterConfig
    store: Store
    recognizer: Recognizer
    metrics: CounterMetrics
    lifecycle: Lifecycle
    rules: RulesCache
    live: LiveSessions = dataclasses.field(default_factory=LiveSessions)
    # The management API's CPU work (reports, rule compiles, dry runs) off the event loop: one
    # thread at a time, so managers never take more than one core from recognition.
    admin_threads: trio.CapacityLimiter = dataclasses.field(
        default_factory=lambda: trio.CapacityLimiter(1)
    )
    feed: FeedHub = dataclasses.field(default_factory=FeedHub)
    # REDIS_URL: the other instances hear of revocations, rule changes and feed events, and
    # the rate limits are shared; without it this instance is alone (None, local buckets).
    coord: Coordinator | None = None
    limits: RateLimits = dataclasses.field(default_factory=RateLimits)


async def counter_session(request: WebSocketUpgrade, services: CounterServices) -> None:
    """Serve one counter; the shell closes the socket after (1000, or 1011 if this crashed)."""
    ws = await request.accept()
    services.metrics.connections.labels("ws").inc()
    try:
        await _run(ws, services)
    except trio_websocket.ConnectionClosed:
        pass
    finally:
        services.metrics.connections.labels("ws").dec()


async def _run(ws: WebSocket, services: CounterServices) -> None:
    proto = protocol.CounterProtocol()
    balcao = await _authenticate(ws, proto, services)
    if balcao is None:
        return
    # Registered before auth_ok: whoever reads auth_ok finds the counter online, and a
    # revocation from now on reaches this socket (one just before it: see ws.live).
    revoked = trio.Event()
    services.live.add(balcao.id, revoked, balcao.cliente_id, balcao.chave_hash)
    try:
        exists = await _touch(services, balcao)
        # Revoked, rotated or deleted since the key's lookup (the touch included): auth fails.
        if revoked.is_set() or not exists:
            await _refuse(ws, proto.auth_failed(), services)
            return
        await ws.send_message(encode(proto.authenticated(balcao.nome_balcao)))
        services.metrics.sessions.inc()
        try:
            await CounterSession(ws, proto, balcao, services, revoked).run()
        finally:
            services.metrics.sessions.dec()
            with trio.CancelScope(shield=True):
                await _touch(services, balcao)
    finally:
        services.live.discard(balcao.id, revoked)


async def _touch(services: CounterServices, balcao: Balcao) -> bool:
    """Record "last seen" (at auth and when the session ends); a failure costs only that.
    False when the counter is gone (deleted with its chain's data)."""
    try:
        return await services.store.run(services.store.database.touch_balcao, balcao.id)
    except StorageError as exc:
        log.error("balcao %s: last seen not recorded: %s", balcao.id, exc.message)
        services.metrics.storage_failures.inc()
        return True


async def _authenticate(
    ws: WebSocket,
    proto: protocol.CounterProtocol,
    services: CounterServices,
) -> Balcao | None:
    """The counter whose key the first message carries (nothing sent yet), or None once the
    socket is closed with the reason."""
    # Waiting for auth is idle time: it ends at the deadline or at once when the server stops.
    with services.lifecycle.idle(services.config.auth_timeout_s) as waiting:
        message = await ws.get_message()
    action: protocol.Action
    if not waiting.cancelled_caught:
        action = (
            proto.receive_text(message)
            if isinstance(message, str)
            else proto.receive_binary(message)
        )
    elif services.lifecycle.stopping.is_set():
        # Not yet a session, but a peer all the same: it learns why at once (1001), instead of
        # holding the shutdown up to its grace limit.
        await _close(ws, proto.going_away())
        return None
    else:
        action = proto.auth_timed_out()
    if isinstance(action, protocol.Authenticate):
        try:
            balcao = await services.store.run(services.store.database.authenticate, action.api_key)
        except StorageError as exc:
            log.error("authentication not checked: %s", exc.message)
            services.metrics.storage_failures.inc()
            await _close(ws, proto.auth_unavailable())
            return None
        if balcao is not None:
            return balcao  # the caller answers auth_ok
        action = proto.auth_failed()
    assert isinstance(action, protocol.Close)
    await _refuse(ws, action, services)
    return None


async def _refuse(ws: WebSocket, close: protocol.Close, services: CounterServices) -> None:
    services.metrics.auth_failures.labels(close.cause.label).inc()
    await _close(ws, close)


async def _close(ws: WebSocket, close: protocol.Close) -> None:
    await ws.aclose(code=close.code, reason=close.reason)


class CounterSession:
    def __init__(
        self,
        ws: WebSocket,
        proto: protocol.CounterProtocol,
        balcao: Balcao,
        services: CounterServices,
        revoked: trio.Event,
    ) -> None:
        self.ws = ws
        self.revoked = revoked
        self.proto = proto
        self.balcao = balcao
        self.services = services
        self.feed = SessionFeed(balcao, services.feed, services.coord, services.metrics.boundary)
        config = services.config
        self.intake = AudioIntake(int(config.ring_buffer_s * SAMPLE_RATE_HZ))
        self.outbox_tx, self.outbox_rx = trio.open_memory_channel[OutgoingEvent](OUTBOX_SIZE)
        self.commands_tx, self.commands_rx = trio.open_memory_channel[protocol.Feedback](
            COMMANDS_SIZE
        )
        self.chain_rules = services.rules.for_chain(
            balcao.cliente_id, balcao.regras_revisao, balcao.regras
        )
        # The same builder as ``balto transcrever``: what is checked offline is what runs here.
        self.pipeline = counter_pipeline(
            config, self.chain_rules.rules, balcao.idioma or config.language
        )

    async def run(self) -> None:
        async with trio.open_nursery() as nursery:
            nursery.start_soon(self._receive, nursery.cancel_scope)
            nursery.start_soon(self._recognize)
            nursery.start_soon(self._commands)
            nursery.start_soon(self._send, nursery.cancel_scope)
            nursery.start_soon(self._keepalive, nursery.cancel_scope)
            nursery.start_soon(self._close_on_shutdown)
            nursery.start_soon(self._close_on_revoke)

    async def _receive(self, session_scope: trio.CancelScope) -> None:
        metrics = self.services.metrics
        try:
            while True:
                message = await self.ws.get_message()
                if self.proto.phase is protocol.Phase.CLOSED:
                    break  # we are closing (server shutdown): what follows is not read
                if isinstance(message, str):
                    action = self.proto.receive_text(message)
                else:
                    action = self.proto.receive_binary(message)
                if isinstance(action, protocol.Audio):
                    metrics.audio_seconds.inc(len(action.samples) / SAMPLE_RATE_HZ)
                    dropped = self.intake.put(action.samples)
                    if dropped:
                        metrics.audio_dropped_seconds.inc(dropped / SAMPLE_RATE_HZ)
                elif isinstance(action, protocol.Feedback):
                    await self.commands_tx.send(action)
                elif isinstance(action, protocol.Reply):
                    await self.outbox_tx.send(action.event)
                elif isinstance(action, protocol.Close):
                    await _close(self.ws, action)
                    break
        except trio_websocket.ConnectionClosed:
            pass
        session_scope.cancel()

    async def _recognize(self) -> None:
        segmenter = self.pipeline.segmenter
        scheduler = self.pipeline.scheduler
        while True:
            samples = await self.intake.take()
            # under load, every counter spares the decodes it can (the pipeline's economy)
            self.pipeline.economize(self.services.recognizer.busy)
            jobs = segmenter.push(samples)
            for job in jobs:
                if job.final:
                    self.services.metrics.speech_seconds.inc(job.duration_s)
            scheduler.push(jobs, segmenter.position_s)
            while (step := scheduler.next_step(self.intake.backlog_s)) is not None:
                if isinstance(step, Decode):
                    await self._decode(step.job)
                elif isinstance(step, Skip) and step.dropped_s:
                    self.services.metrics.audio_dropped_seconds.inc(step.dropped_s)

    async def _decode(self, job: DecodeJob) -> None:
        try:
            text = await self.services.recognizer.transcribe(
                self.balcao.id, job.audio, self.pipeline.options, interim=not job.final
            )
        except RecognizerError:
            return  # counted by the pool; degrade to "no recommendation"
        if text is None:
            return  # superseded in the pool: its audio is still ahead of the next job
        self.pipeline.scheduler.decoded(job)
        if not text:
            return
        text = self.pipeline.transcript.heard(job, text)
        # The chain may have replaced its rules (PUT /api/regras) since the last decode.
        self.chain_rules = self.services.rules.refresh(
            self.balcao.cliente_id, self.chain_rules, self.pipeline.detector
        )
        for opportunity in self.pipeline.detector.detect(text, trio.current_time()):
            await self._recommend(opportunity, text)

    async def _recommend(self, opportunity: Opportunity, text: str) -> None:
        services = self.services
        try:
            interacao_id = await services.store.run(
                services.store.database.create_interacao,
                self.balcao.id,
                regra=opportunity.rule_id,
                categoria=opportunity.categoria,
                mensagem=opportunity.mensagem,
                produto=opportunity.produto,
                gatilho=opportunity.gatilho,
                transcricao=text if services.config.store_transcripts else None,
                variante=opportunity.variante,
            )
        except StorageError as exc:
            log.error("interaction not stored, recommendation withheld: %s", exc)
            services.metrics.storage_failures.inc()
            return
        services.metrics.recommendations.labels(opportunity.categoria).inc()
        await self.outbox_tx.send(
            Recommendation(
                interaction_id=interacao_id,
                message=opportunity.mensagem,
                product=opportunity.produto,
                category=opportunity.categoria,
                trigger=opportunity.gatilho,
                kind=opportunity.tipo,
            )
        )
        self.feed.recommended(opportunity, interacao_id)

    async def _commands(self) -> None:
        services = self.services
        async for feedback in self.commands_rx:
            try:
                await services.store.run(
                    services.store.database.record_feedback,
                    self.balcao.id,
                    feedback.interaction_id,
                    feedback.result,
                )
            except BaltoError as exc:
                if isinstance(exc, StorageError):
                    services.metrics.storage_failures.inc()
                await self.outbox_tx.send(feedback_refused(exc))
                continue
            services.metrics.feedback.labels(feedback.result).inc()
            await self.outbox_tx.send(FeedbackOk(feedback.interaction_id, feedback.result))
            self.feed.answered(feedback.interaction_id, feedback.result)

    async def _send(self, session_scope: trio.CancelScope) -> None:
        """The one writer. A peer that stops reading is dropped after ``ws_send_timeout_s``."""
        try:
            async for event in self.outbox_rx:
                with trio.move_on_after(self.services.config.ws_send_timeout_s) as sending:
                    await self.ws.send_message(encode(event))
                if sending.cancelled_caught:
                    log.warning("balcao %s stopped reading: session dropped", self.balcao.id)
                    break
        except trio_websocket.ConnectionClosed:
            pass
        session_scope.cancel()

    async def _keepalive(self, session_scope: trio.CancelScope) -> None:
        """Ping the peer; one that does not answer within the interval has vanished."""
        interval = self.services.config.ws_ping_interval_s
        try:
            while True:
                await trio.sleep(interval)
                with trio.move_on_after(interval) as waiting:
                    await self.ws.ping()
                if waiting.cancelled_caught:
                    log.warning(
                        "balcao %s: no pong in %.0f s, session dropped", self.balcao.id, interval
                    )
                    break
        except trio_websocket.ConnectionClosed:
            pass
        session_scope.cancel()

    async def _close_on_shutdown(self) -> None:
        await self.services.lifecycle.stopping.wait()
        if self.proto.phase is protocol.Phase.CLOSED:
            return  # the receiver is closing the socket already
        await self._close_shielded(self.proto.going_away())

    async def _close_on_revoke(self) -> None:
        """The chain revoked or replaced this counter's api_key: close at once with 1008."""
        await self.revoked.wait()
        if self.proto.phase is protocol.Phase.CLOSED:
            return  # closing already (shutdown, a protocol violation)
        replaced = self.services.live.retired(self.balcao.id, self.balcao.chave_hash)
        close = self.proto.key_replaced() if replaced else self.proto.revoked()
        log.info("balcao %s: %s, session closed", self.balcao.id, close.cause.label)
        await self._close_shielded(close)

    async def _close_shielded(self, close: protocol.Close) -> None:
        # Shielded: the receiver sees the close at once and cancels the session, which must not
        # cut our closing handshake short (the peer would see 1006 instead of 1001).
        with trio.CancelScope(shield=True), trio.move_on_after(2):
            await _close(self.ws, close)
