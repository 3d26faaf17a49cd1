"""The Balto service: registration over HTTP, counters over WebSocket, on one port."""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from functools import partial
from typing import NoReturn

import trio

from balto import __version__
from balto.core.errors import (
    BadRequest,
    ClientError,
    StorageError,
    TooManyRequests,
    Unauthorized,
)
from balto.core.http.connection import WebSocketHandler
from balto.core.http.messages import Request, Response, json_response
from balto.core.http.router import Router
from balto.core.lifecycle import Lifecycle
from balto.core.limits import Charge, Refused, TokenBuckets, network_of
from balto.core.listener import serve
from balto.core.redis.client import Redis, open_redis
from balto.counter.admin.api import AdminApi, ChainKeys
from balto.counter.admin.data_api import DataApi
from balto.counter.admin.experiments_api import ExperimentsApi
from balto.counter.admin.feed import FeedHub
from balto.counter.admin.feed_api import FeedApi, end_feeds_on_shutdown
from balto.counter.admin.retention_job import RetentionJob
from balto.counter.admin.rules_api import RulesApi
from balto.counter.admin.session_api import SessionApi
from balto.counter.asr.base import Transcriber
from balto.counter.asr.pool import WhisperPool
from balto.counter.balcao.site import BalcaoSite
from balto.counter.cadastro.secrets import same_secret
from balto.counter.cadastro.validate import parse_balcao, parse_cliente
from balto.counter.config import CounterConfig
from balto.counter.coord.bus import Coordinator
from balto.counter.coord.limits import RateLimits, SharedRateLimits
from balto.counter.metrics import CounterMetrics
from balto.counter.panel.site import PanelSite
from balto.counter.store import Store, open_database
from balto.counter.ws.live import LiveSessions
from balto.counter.ws.rules_cache import RulesCache
from balto.counter.ws.session import CounterServices, counter_session

log = logging.getLogger(__name__)

ATTEMPT_SETTLE_WAIT_S = 10.0
SETTLE_TIMEOUT_S = 5.0  # giving tokens back to Redis; past it they stay spent
KNOWN_METHODS = frozenset({"GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"})


class BaltoApp:
    def __init__(self, services: CounterServices) -> None:
        self.services = services
        self.started_at = time.monotonic()
        config = services.config
        self.codigo_failures = TokenBuckets(
            "codigo", burst=config.codigo_failures_burst, refill_s=config.codigo_failure_refill_s
        )
        self.codigo_failures_global = TokenBuckets(
            "codigo_global",
            burst=config.codigo_failures_global_burst,
            refill_s=config.codigo_failure_global_refill_s,
        )
        self.cliente_registrations = TokenBuckets(
            "cadastro_cliente",
            burst=config.cadastro_cliente_burst,
            refill_s=config.cadastro_cliente_refill_s,
        )
        self._attempts_in_flight = 0  # cadastro/balcao attempts holding tokens, being checked
        self._attempt_settled = trio.Event()
        self.router = Router(services.metrics.boundary)
        self.router.add("POST", "/cadastro/cliente", self.cadastro_cliente)
        self.router.add("POST", "/cadastro/balcao", self.cadastro_balcao)
        self.router.add("GET", "/health", self.health)
        self.router.add("GET", "/metrics", self.metrics)
        self.router.add("GET", "/ws", self.ws_without_upgrade)
        keys = ChainKeys(services)
        AdminApi(services, keys).install(self.router)
        RulesApi(services, keys).install(self.router)
        ExperimentsApi(services, keys).install(self.router)
        SessionApi(keys).install(self.router)
        FeedApi(services, keys).install(self.router)
        DataApi(services, keys).install(self.router)
        PanelSite().install(self.router)
        BalcaoSite().install(self.router)

    # -- the HttpApp protocol -------------------------------------------------------------

    async def handle_http(self, request: Request) -> Response:
        started = time.perf_counter()
        routed = await self.router.dispatch(request)
        method = request.method if request.method in KNOWN_METHODS else "OTHER"
        status = str(routed.response.status)
        self.services.metrics.http_latency.labels(method, routed.route, status).observe(
            time.perf_counter() - started
        )
        return routed.response

    def websocket_handler(self, request: Request) -> WebSocketHandler | None:
        if request.path != "/ws":
            return None
        return partial(counter_session, services=self.services)

    # -- handlers -------------------------------------------------------------------------

    async def cadastro_cliente(self, request: Request) -> Response:
        if not self._check_admin(request):
            # Open registration (the seed's mode): each client network may register a few
            # chains, so nobody can enumerate e-mails through 409 or fill the code space fast.
            await self._take([(self.cliente_registrations, network_of(request.client))])
        new = parse_cliente(request.json_object())
        store = self.services.store
        keys = await store.run(store.database.create_cliente, new)
        # chave_admin is shown this once (only its hash is stored): no cache may keep it.
        return json_response(
            201,
            {"codigo": keys.codigo, "chave_admin": keys.chave_admin},
            headers=(("Cache-Control", "no-store"),),
        )

    async def cadastro_balcao(self, request: Request) -> Response:
        """The 6-digit codigo is guessable: every attempt takes a token, before anything is
        awaited, from its client network, from the code tried and from the whole server; a
        successful one (or one we failed to check) gives them back."""
        charges: list[Charge] = [(self.codigo_failures, f"addr:{network_of(request.client)}")]
        try:
            new = parse_balcao(request.json_object())
        except BadRequest:
            await self._take(charges)  # a malformed attempt is a failed attempt
            raise
        charges += [
            (self.codigo_failures, f"code:{new.user_codigo}"),
            (self.codigo_failures_global, "all"),
        ]
        await self._take_when_settled(charges)
        store = self.services.store
        try:
            api_key = await store.run(store.database.create_balcao, new)
        except BadRequest:
            await self._settle()  # a wrong code: the tokens stay spent
            raise
        except BaseException:
            await self._settle(charges)  # not the client's failure
            raise
        await self._settle(charges)
        return json_response(201, {"api_key": api_key})

    async def _take_when_settled(self, charges: list[Charge]) -> None:
        """Take the tokens; while the buckets are empty only because attempts are still being
        checked (a chain enrolling many counters at once), wait for those to settle: correct
        codes give their tokens back, wrong ones keep them and this one is refused. (With
        Redis the buckets are shared, but only this instance's attempts are waited for.)"""
        deadline = trio.current_time() + ATTEMPT_SETTLE_WAIT_S
        limits = self.services.limits
        while (refused := await limits.take_all(charges)) is not None:
            if not self._attempts_in_flight or trio.current_time() >= deadline:
                self._refuse(refused)
            with trio.move_on_at(deadline):
                await self._attempt_settled.wait()
        self._attempts_in_flight += 1

    async def _settle(self, charges: list[Charge] | None = None) -> None:
        if charges is not None:
            # Shielded and bounded: a cancelled attempt still returns its tokens to Redis.
            with trio.CancelScope(shield=True), trio.move_on_after(SETTLE_TIMEOUT_S):
                await self.services.limits.give_back_all(charges)
        self._attempts_in_flight -= 1
        self._attempt_settled.set()
        self._attempt_settled = trio.Event()

    async def _take(self, charges: list[Charge]) -> None:
        refused = await self.services.limits.take_all(charges)
        if refused is not None:
            self._refuse(refused)

    def _refuse(self, refused: Refused) -> NoReturn:
        self.services.metrics.rate_limited.labels(refused.limit).inc()
        raise TooManyRequests(
            f"Muitas tentativas; tente de novo em {refused.retry_after_s} s",
            retry_after_s=refused.retry_after_s,
        )

    def _check_admin(self, request: Request) -> bool:
        """True for the administrator; False in open mode (no ``ADMIN_TOKEN``); else 401."""
        token = self.services.config.admin_token
        if not token:
            return False  # the seed's open registration
        given = request.header("authorization") or ""
        scheme, _, value = given.partition(" ")
        if scheme.lower() != "bearer" or not same_secret(value.strip(), token):
            raise Unauthorized("Token de administrador ausente ou inválido")
        return True

    async def health(self, request: Request) -> Response:
        """200 while the database answers (``status`` "iniciando" until the recogniser is
        loaded); 503 "sem_banco" when it does not: a balancer stops sending counters here,
        and those that come anyway are refused (1013) at authentication."""
        ready = self.services.recognizer.ready
        store = self.services.store
        try:
            await store.run(store.database.ping)
            database = True
        except StorageError as exc:
            log.error("health: %s", exc.message)
            database = False
        body: dict[str, object] = {
            "status": ("ok" if ready else "iniciando") if database else "sem_banco",
            "version": __version__,
            "uptime_s": round(time.monotonic() - self.started_at, 3),
            "recognizer_ready": ready,
            "database": database,
        }
        status = 200 if database else 503
        if self.services.coord is not None:  # REDIS_URL: without Redis, 503 (README)
            redis_ok, fields = await self.services.coord.health()
            body |= fields
            if not redis_ok and database:
                status, body["status"] = 503, "indisponível"
        return json_response(status, body)

    async def metrics(self, request: Request) -> Response:
        metrics = self.services.metrics
        return Response(200, metrics.render(), content_type=metrics.content_type)

    async def ws_without_upgrade(self, request: Request) -> Response:
        raise ClientError("Use uma conexão WebSocket (Upgrade: websocket) em /ws", status=426)


TranscriberFactory = Callable[[], Transcriber]


@asynccontextmanager
async def open_balto(
    config: CounterConfig, *, transcriber_factory: TranscriberFactory, lifecycle: Lifecycle
) -> AsyncIterator[BaltoApp]:
    """The app with its database open and its whisper pool loaded, for as long as the context
    lasts; our own listener (``run_balto``) and the ASGI lifespan both serve it."""
    async with AsyncExitStack() as stack:
        redis = None
        if config.redis_url:  # refused at once when Redis cannot be reached at startup
            redis = await stack.enter_async_context(open_redis(config.redis_url))
        async with _open_balto(config, transcriber_factory, lifecycle, redis) as app:
            yield app


@asynccontextmanager
async def _open_balto(
    config: CounterConfig,
    transcriber_factory: TranscriberFactory,
    lifecycle: Lifecycle,
    redis: Redis | None,
) -> AsyncIterator[BaltoApp]:
    database = await trio.to_thread.run_sync(open_database, config)
    log.info("database %s, schema version %d", database.describe(), database.schema_version)
    store = Store(database)
    metrics = CounterMetrics()
    pool = WhisperPool(
        transcriber_factory,
        workers=config.asr_worker_count,
        metrics=metrics,
        max_pending_per_owner=config.asr_max_pending_per_counter,
        finals_first=config.asr_finals_first,
        economy_load=config.asr_economy_load,
    )
    rules, live, feed = RulesCache(), LiveSessions(), FeedHub(config.ao_vivo_buffer_events)
    admin_threads = trio.CapacityLimiter(1)
    coord: Coordinator | None = None
    limits = RateLimits()
    if redis is not None:
        coord = Coordinator(
            redis,
            live=live,
            rules=rules,
            feed=feed,
            store=store,
            metrics=metrics,
            admin_threads=admin_threads,
        )
        limits = SharedRateLimits(redis, metrics)
    services = CounterServices(
        config=config,
        store=store,
        recognizer=pool,
        metrics=metrics,
        lifecycle=lifecycle,
        rules=rules,
        live=live,
        admin_threads=admin_threads,
        feed=feed,
        coord=coord,
        limits=limits,
    )
    try:
        async with trio.open_nursery() as nursery:
            if coord is not None:  # started once subscribed: no message missed after that
                await nursery.start(coord.run)
            nursery.start_soon(pool.run)  # loads beside the listener: /health says "iniciando"
            nursery.start_soon(end_feeds_on_shutdown, lifecycle, services.feed)
            retention = RetentionJob(store, metrics, config.retention_days)
            nursery.start_soon(retention.run)  # at start, then hourly (LGPD)
            yield BaltoApp(services)
            nursery.cancel_scope.cancel()
    finally:
        with trio.CancelScope(shield=True):
            await store.aclose()


def whisper_factory(config: CounterConfig) -> TranscriberFactory:
    """Resolve the model (blocking: it may convert it) and return the transcriber factory."""
    from balto.counter.asr.model_cache import resolve_model
    from balto.counter.asr.whisper import WhisperTranscriber

    model_path = resolve_model(
        config.model_path,
        config.model_size,
        config.cache_dir,
        weights=config.model_weights,
        progress=True,
    )

    def factory() -> Transcriber:
        return WhisperTranscriber(
            model_path, n_threads=config.asr_threads_per_worker, beam_size=config.asr_beam_size
        )

    return factory


async def run_balto(
    config: CounterConfig,
    *,
    transcriber_factory: TranscriberFactory,
    lifecycle: Lifecycle,
    task_status: trio.TaskStatus[list[trio.SocketListener]] = trio.TASK_STATUS_IGNORED,
) -> None:
    """Serve the app on our own listener until ``lifecycle.stop()``."""
    async with open_balto(
        config, transcriber_factory=transcriber_factory, lifecycle=lifecycle
    ) as app:
        await serve(app, config.http, lifecycle, app.services.metrics, task_status=task_status)
