"""What an instance does with the coordination channel's messages (delivered here directly:
the channel itself is tested end to end in tests/e2e/test_instances.py)."""

from __future__ import annotations

from pathlib import Path

import trio

from balto.core.redis.client import Redis
from balto.core.redis.url import parse_redis_url
from balto.counter.admin.feed import FeedHub
from balto.counter.cadastro.validate import parse_balcao, parse_cliente
from balto.counter.coord.bus import OUTBOX_SIZE, Coordinator
from balto.counter.coord.messages import (
    ChainDeleted,
    CounterKeyRotated,
    CounterRevoked,
    FeedEvent,
    encode,
)
from balto.counter.metrics import CounterMetrics
from balto.counter.store import Database, Store
from balto.counter.ws.live import LiveSessions
from balto.counter.ws.rules_cache import RulesCache


class Flag:
    def __init__(self) -> None:
        self.is_set = False

    def set(self) -> None:
        self.is_set = True


def coordinator(tmp_path: Path) -> Coordinator:
    return Coordinator(
        Redis(parse_redis_url("redis://127.0.0.1:1/0")),
        live=LiveSessions(),
        rules=RulesCache(),
        feed=FeedHub(),
        store=Store(Database(tmp_path / "registro.db")),
        metrics=CounterMetrics(),
        admin_threads=trio.CapacityLimiter(1),
    )


def received(coord: Coordinator, kind: str) -> float:
    sample = coord.metrics.registry.get_sample_value("balto_coord_received_total", {"tipo": kind})
    return sample or 0.0


def test_other_instances_messages_act_here_and_our_own_are_skipped(tmp_path: Path) -> None:
    coord = coordinator(tmp_path)
    revoked, deleted, elsewhere = Flag(), Flag(), Flag()
    coord.live.add(1, revoked, 10)
    coord.live.add(2, deleted, 20)
    coord.live.add(3, elsewhere, 30)
    subscription = coord.feed.subscribe(10)
    gone_feed = coord.feed.subscribe(20)

    coord._deliver(encode(coord.origin, CounterRevoked(1)))  # ours: done here already
    coord._deliver(encode(coord.origin, FeedEvent(10, "feedback", {"x": 1})))
    assert not revoked.is_set and subscription.take().events == ()

    coord._deliver(encode("other", CounterRevoked(1)))
    coord._deliver(encode("other", FeedEvent(10, "feedback", {"x": 1})))
    coord._deliver(encode("other", ChainDeleted(20, (2,))))
    assert revoked.is_set and deleted.is_set and not elsewhere.is_set
    assert [event.data for event in subscription.take().events] == [{"x": 1}]
    assert gone_feed.take().ended is not None
    assert (received(coord, "revogar"), received(coord, "feed"), received(coord, "apagar")) == (
        1,
        1,
        1,
    )


def test_garbage_on_the_channel_is_counted_and_ignored(tmp_path: Path) -> None:
    coord = coordinator(tmp_path)
    coord._deliver(b"{not json")
    coord._deliver(b'{"de": "x", "tipo": "voar"}')
    failures = coord.metrics.registry.get_sample_value(
        "balto_coord_failures_total", {"tipo": "ilegivel"}
    )
    assert failures == 2


def test_feed_events_wait_in_a_bounded_queue_never_blocking(tmp_path: Path) -> None:
    coord = coordinator(tmp_path)
    for _ in range(2000):  # nobody publishes them (no run()): past the bound, dropped
        coord.publish_feed(10, "feedback", {"x": 1})
    failures = coord.metrics.registry.get_sample_value(
        "balto_coord_failures_total", {"tipo": "feed"}
    )
    assert failures == 2000 - OUTBOX_SIZE


def test_a_key_rotated_elsewhere_closes_only_the_old_keys_sessions_here(tmp_path: Path) -> None:
    coord = coordinator(tmp_path)
    old, new = Flag(), Flag()
    coord.live.add(1, old, 10, "hash-old")
    coord.live.add(1, new, 10, "hash-new")
    coord._deliver(encode("other", CounterKeyRotated(1, "hash-old")))
    assert old.is_set and not new.is_set
    assert received(coord, "trocar_chave") == 1
    late = Flag()
    coord.live.add(1, late, 10, "hash-old")  # its old key was checked before the rotation
    assert late.is_set


async def test_after_a_gap_the_sessions_of_keys_replaced_meanwhile_are_closed(
    tmp_path: Path,
) -> None:
    coord = coordinator(tmp_path)
    db = coord.store.database
    keys = db.create_cliente(
        parse_cliente({"email": "a@b.com", "razao_social": "Rede", "telefone": "11999998888"})
    )
    old_key = db.create_balcao(parse_balcao({"nome_balcao": "Loja", "user_codigo": keys.codigo}))
    balcao = db.authenticate(old_key)
    assert balcao is not None
    old, kept = Flag(), Flag()
    coord.live.add(balcao.id, old, balcao.cliente_id, balcao.chave_hash)
    rotated = db.rotate_api_key(balcao.cliente_id, balcao.id)  # announced while we were away
    assert rotated is not None
    fresh = db.authenticate(rotated.api_key)
    assert fresh is not None
    coord.live.add(fresh.id, kept, fresh.cliente_id, fresh.chave_hash)
    await coord._recheck_counters()
    assert old.is_set and not kept.is_set
