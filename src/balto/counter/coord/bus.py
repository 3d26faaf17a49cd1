"""The Trio shell of the coordination channel (``REDIS_URL``): what one counter instance does
that the others must see, over Redis pub/sub (messages: :mod:`.messages`).

Each instance acts locally first, exactly as without Redis, then :meth:`Coordinator.announce`
s it; every other instance's :meth:`Coordinator.run` receives it and does the same to its own
live sockets, rules cache and feeds; the sender skips its own messages (its ``origin``), so a
feed event is delivered once per panel. What arrives:

* a rule change marks the chain stale; one task reads the chain's current version from the
  store and compiles it off the event loop (on the admin thread), and the cache takes it
  (never an older one): the chain's live sessions follow at their next decode;
* a revocation or a chain's deletion closes the counters' sockets here (1008), ends the
  chain's feeds and forgets its rules; a key rotation closes the sockets of the old key;
* a feed event goes to this instance's subscribers of that chain.

Feed events are published from a bounded queue by one task (a session never waits on Redis;
past ``OUTBOX_SIZE`` events are dropped and counted). Pub/sub is at-most-once: while the
subscription is down, what others publish is lost. ``subscribed`` says so (``/health``: 503),
and when it is restored every chain whose rules this instance holds is read again, so no live
session keeps old rules, and every counter with a socket here is checked against the store
(revoked or deleted meanwhile: closed; its key replaced: the old key's sockets closed).
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Iterable
from typing import Any

import trio

from balto.core.errors import BaltoError
from balto.core.isolation import Boundary
from balto.core.redis.client import Redis, RedisError
from balto.core.redis.subscription import Subscription
from balto.counter.admin.feed import FeedHub
from balto.counter.coord import messages
from balto.counter.coord.messages import (
    BadMessage,
    ChainDeleted,
    CounterKeyRotated,
    CounterRevoked,
    FeedEvent,
    Message,
    RulesChanged,
)
from balto.counter.detect import load_rules
from balto.counter.metrics import CounterMetrics
from balto.counter.store import Store
from balto.counter.ws.live import LiveSessions
from balto.counter.ws.rules_cache import RulesCache

__all__ = ["CHANNEL", "Coordinator"]

log = logging.getLogger(__name__)

CHANNEL = "balto:coordenacao"
OUTBOX_SIZE = 1024  # feed events waiting to be published

_KINDS = {
    RulesChanged: "regras",
    CounterRevoked: "revogar",
    CounterKeyRotated: "trocar_chave",
    ChainDeleted: "apagar",
}


def _kind(message: Message) -> str:
    return _KINDS.get(type(message), "feed")


class Coordinator:
    def __init__(
        self,
        redis: Redis,
        *,
        live: LiveSessions,
        rules: RulesCache,
        feed: FeedHub,
        store: Store,
        metrics: CounterMetrics,
        admin_threads: trio.CapacityLimiter,
        channel: str = CHANNEL,
    ) -> None:
        self.redis = redis
        self.live = live
        self.rules = rules
        self.feed = feed
        self.store = store
        self.metrics = metrics
        self.admin_threads = admin_threads
        self.channel = channel
        self.origin = secrets.token_hex(8)  # this instance, for as long as it runs
        self._subscription = Subscription(redis.address, channel)
        self._outbox_tx, self._outbox_rx = trio.open_memory_channel[Message](OUTBOX_SIZE)
        self._stale: set[int] = set()  # chains whose rules must be read again
        self._stale_wake = trio.Event()
        self._recheck = False  # after a gap: check the live counters against the store

    @property
    def subscribed(self) -> bool:
        """Whether other instances' messages reach us now (/health)."""
        return self._subscription.subscribed

    @property
    def boundary(self) -> Boundary:
        return self.metrics.boundary

    # -- sending --------------------------------------------------------------------------

    async def announce(self, message: Message) -> None:
        """Publish ``message`` now; a Redis failure raises (``RedisError``: 503)."""
        try:
            await self.redis.execute("PUBLISH", self.channel, messages.encode(self.origin, message))
        except RedisError:
            self.metrics.coord_failures.labels(_kind(message)).inc()
            raise

    async def announce_or_log(self, message: Message, what: str) -> None:
        """Publish ``message`` for a change already written that the caller cannot repeat: a
        Redis failure is logged (and counted by :meth:`announce`), not raised; the other
        instances catch up from the store when their subscription comes back."""
        try:
            await self.announce(message)
        except RedisError as exc:
            log.error("%s, other instances not told: %s", what, exc.message)

    def announce_soon(self, message: Message) -> None:
        """Queue ``message`` for the publisher (never waits: dropped, counted, when full)."""
        try:
            self._outbox_tx.send_nowait(message)
        except trio.WouldBlock:
            self.metrics.coord_failures.labels(_kind(message)).inc()

    def publish_feed(self, cliente_id: int, kind: str, data: dict[str, Any]) -> None:
        """A live-feed event, for the chain's panels on the other instances."""
        self.announce_soon(FeedEvent(cliente_id, kind, data))

    async def health(self) -> tuple[bool, dict[str, Any]]:
        redis_ok = await self.redis.ping()
        subscribed = self.subscribed
        return redis_ok and subscribed, {
            "redis": "ok" if redis_ok else "indisponível",
            "redis_pubsub": "ok" if subscribed else "reconectando",
        }

    # -- the tasks ------------------------------------------------------------------------

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        """Receive, publish and reload rules until cancelled; started once subscribed (a
        first subscription that fails raises)."""
        async with trio.open_nursery() as nursery:
            await nursery.start(self._receive)
            nursery.start_soon(self._publish_queued)
            nursery.start_soon(self._catch_up)
            task_status.started()

    async def _receive(
        self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED
    ) -> None:
        await self._subscription.run(self._deliver, self._resync, task_status=task_status)

    def _resync(self) -> None:
        """After a gap in the subscription, revocations and rule changes may have been
        missed: every live counter is checked against the store, every chain's rules read."""
        log.info("coordination %s: subscribed again, catching up from the store", self.channel)
        self._recheck = True
        self._stale.update(self.rules.chains())
        self._stale_wake.set()

    async def _publish_queued(self) -> None:
        async for message in self._outbox_rx:
            try:
                await self.announce(message)
            except RedisError as exc:  # counted in announce; the event is lost for the others
                log.warning("coordination: %s event not published: %s", _kind(message), exc.message)

    async def _catch_up(self) -> None:
        """One task: reload the stale chains' rules; after a gap, check the live counters."""
        while True:
            await self._stale_wake.wait()
            self._stale_wake = trio.Event()
            if self._recheck:
                self._recheck = False
                with self.boundary.guard("coord_recheck"):
                    await self._recheck_counters()
            while self._stale:
                cliente_id = self._stale.pop()
                with self.boundary.guard("coord_rules", str(cliente_id)):
                    await self._reload(cliente_id)

    async def _recheck_counters(self) -> None:
        """Close the sessions of live counters revoked or deleted meanwhile, and those of keys
        replaced meanwhile (read from the store, which every instance writes before
        announcing)."""
        store = self.store
        for cliente_id, live_ids in self.live.by_chain().items():
            try:
                records = await store.run(store.database.balcoes_of, cliente_id)
                current = await store.run(store.database.key_hashes_of, cliente_id)
            except BaltoError as exc:
                log.error(
                    "coordination: counters of chain %s not checked: %s", cliente_id, exc.message
                )
                self.metrics.coord_failures.labels("revogar").inc()
                continue
            existing = {record.id: record for record in records}
            for balcao_id in live_ids:
                record = existing.get(balcao_id)
                if record is None:
                    self.live.close(balcao_id)  # deleted with its chain
                elif record.revogado_em is not None:
                    self.live.revoke(balcao_id)
                else:
                    for key in self.live.keys(balcao_id) - {current.get(balcao_id, "")}:
                        self.live.retire_key(balcao_id, key)

    async def _reload(self, cliente_id: int) -> None:
        store = self.store
        try:
            version = await store.run(store.database.current_rules, cliente_id)
            rules = None
            if version.regras is not None:
                rules = await trio.to_thread.run_sync(
                    load_rules, version.regras, limiter=self.admin_threads
                )
        except BaltoError as exc:
            log.error("coordination: rules of chain %s not reloaded: %s", cliente_id, exc.message)
            self.metrics.coord_failures.labels("regras").inc()
            return
        self.rules.publish(cliente_id, version.numero, rules)
        self.metrics.coord_received.labels("regras").inc()

    # -- receiving ------------------------------------------------------------------------

    def _deliver(self, data: bytes) -> None:
        try:
            envelope = messages.decode(data)
        except BadMessage as exc:
            log.warning("coordination %s: %s", self.channel, exc.message)
            self.metrics.coord_failures.labels("ilegivel").inc()
            return
        if envelope.origin == self.origin:
            return  # done here already
        message = envelope.message
        with self.boundary.guard("coord_message", _kind(message)):
            self._apply(message)

    def _apply(self, message: Message) -> None:
        match message:
            case RulesChanged(cliente_id, _revision):
                self._mark_stale([cliente_id])
                return  # counted once reloaded
            case CounterRevoked(balcao_id):
                self.live.revoke(balcao_id)
            case CounterKeyRotated(balcao_id, old_key_hash):
                self.live.retire_key(balcao_id, old_key_hash)
            case ChainDeleted(cliente_id, balcao_ids):
                for balcao_id in balcao_ids:
                    self.live.close(balcao_id)
                self._stale.discard(cliente_id)
                self.rules.forget(cliente_id)
                self.feed.end_chain(cliente_id)
            case FeedEvent(cliente_id, kind, data):
                self.feed.publish(cliente_id, kind, data)
        self.metrics.coord_received.labels(_kind(message)).inc()

    def _mark_stale(self, cliente_ids: Iterable[int]) -> None:
        before = len(self._stale)
        self._stale.update(cliente_ids)
        if len(self._stale) > before:
            self._stale_wake.set()
