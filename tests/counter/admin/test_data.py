"""The sans-IO parts of a chain's data deletion: the confirmation, and forgetting the chain in
the in-process registries (its ids may be given to a new chain or counter)."""

import pytest
import trio

from balto.core.errors import BadRequest
from balto.counter.admin import data
from balto.counter.admin.feed import CHAIN_DELETED, FeedHub
from balto.counter.ws.live import LiveSessions
from balto.counter.ws.rules_cache import RulesCache


def test_the_confirmation_is_exactly_the_chains_codigo():
    data.check_confirmation({"confirmar": "123456"}, "123456")
    for body in ({}, {"confirmar": "123456", "x": 1}, {"codigo": "123456"}):
        with pytest.raises(BadRequest, match="confirmar"):
            data.check_confirmation(body, "123456")
    for wrong in ("654321", 123456, None):
        with pytest.raises(BadRequest) as caught:
            data.check_confirmation({"confirmar": wrong}, "123456")
        assert caught.value.message == data.CONFIRM_WRONG


def test_closing_a_deleted_counter_does_not_mark_its_id():
    live = LiveSessions()
    handle = trio.Event()
    live.add(5, handle)
    assert live.close(5) == 1 and handle.is_set()
    live.discard(5, handle)
    reused = trio.Event()
    live.add(5, reused)  # a new counter that got the id
    assert not reused.is_set()


def test_a_deleted_chain_leaves_no_rules_and_no_feed():
    cache = RulesCache()
    cache.publish(7, 3, None)
    cache.forget(7)
    assert cache.for_chain(7, 0, None).revision == 0  # a new chain with the id starts fresh
    hub = FeedHub(4)
    subscription = hub.subscribe(7)
    other = hub.subscribe(8)
    assert hub.end_chain(7) == 1 and hub.subscribers(7) == 0 and hub.subscribers(8) == 1
    assert hub.publish(7, "recomendacao", {}) == 0
    assert subscription.take().ended == CHAIN_DELETED
    assert other.take().ended is None
