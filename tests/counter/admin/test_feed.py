"""The live feed's fan-out without I/O, and its Trio shell on a virtual clock: only the chain's
own events, bounded buffers that lose the oldest (and say so), keepalives, the end at shutdown."""

import json
from types import SimpleNamespace

import pytest
import trio

from balto.counter.admin import feed
from balto.counter.admin.feed import KEEPALIVE, OPENING, FeedHub
from balto.counter.admin.feed_api import FeedApi
from balto.counter.config import CounterConfig


class Flag:
    def __init__(self) -> None:
        self.count = 0

    def set(self) -> None:
        self.count += 1


def parse(chunk: bytes) -> list[tuple[str | None, str, dict]]:
    events = []
    for block in chunk.decode().split("\n\n"):
        if not block or block.startswith(":"):
            continue
        fields = dict(line.split(": ", 1) for line in block.split("\n"))
        events.append((fields.get("id"), fields["event"], json.loads(fields["data"])))
    return events


def test_a_chain_gets_only_its_own_events():
    hub = FeedHub()
    mine, again, theirs = hub.subscribe(1), hub.subscribe(1), hub.subscribe(2)
    assert hub.publish(1, feed.FEEDBACK, {"n": 1}) == 2
    assert hub.publish(3, feed.FEEDBACK, {"n": 2}) == 0  # nobody listening: nothing kept
    for subscription in (mine, again):
        batch = subscription.take()
        assert [(e.kind, e.data) for e in batch.events] == [("feedback", {"n": 1})]
    assert theirs.take().events == ()
    assert mine.take().events == ()  # taken once
    hub.unsubscribe(mine)
    hub.unsubscribe(mine)  # twice is harmless
    assert hub.subscribers(1) == 1


def test_a_slow_subscriber_loses_the_oldest_and_is_told():
    hub = FeedHub(buffer_events=3)
    slow = hub.subscribe(1)
    for n in range(5):
        hub.publish(1, feed.RECOMMENDATION, {"n": n})
    batch = slow.take()
    assert batch.lost == 2 and [e.data["n"] for e in batch.events] == [2, 3, 4]
    events = parse(batch.encode())
    assert events[0] == (None, "perdidos", {"quantidade": 2})
    assert [(kind, data["n"]) for _, kind, data in events[1:]] == [
        ("recomendacao", n) for n in (2, 3, 4)
    ]
    assert [int(seq) for seq, _, _ in events[1:]] == [3, 4, 5]
    assert slow.take().lost == 0


def test_park_wakes_at_the_next_event_or_at_once():
    hub = FeedHub()
    subscription = hub.subscribe(1)
    flag = Flag()
    subscription.park(flag)
    assert flag.count == 0
    hub.publish(1, feed.FEEDBACK, {})
    hub.publish(1, feed.FEEDBACK, {})
    assert flag.count == 1  # a waker is used once
    subscription.park(flag)
    assert flag.count == 2  # events pending: woken at once


def test_close_ends_every_feed_and_any_later_one():
    hub = FeedHub()
    subscription, flag = hub.subscribe(1), Flag()
    hub.publish(1, feed.FEEDBACK, {"n": 1})
    subscription.park(flag)
    hub.close()
    batch = subscription.take()
    assert batch.ended == feed.SHUTTING_DOWN and len(batch.events) == 1
    assert parse(batch.encode())[-1] == (None, "fim", {"motivo": "Servidor encerrando"})
    assert hub.subscribe(1).take().ended == feed.SHUTTING_DOWN
    assert hub.subscribers(1) == 0
    with pytest.raises(ValueError):
        FeedHub(buffer_events=0)


def test_encoding_is_one_data_line():
    chunk = feed.encode_event(7, "recomendacao", {"mensagem": "linha 1\nlinha 2 ção"})
    assert (
        chunk
        == 'id: 7\nevent: recomendacao\ndata: {"mensagem": "linha 1\\nlinha 2 ção"}\n\n'.encode()
    )


async def test_the_shell_keeps_alive_streams_and_ends(autojump_clock):
    hub = FeedHub()
    services = SimpleNamespace(feed=hub, config=CounterConfig(ao_vivo_keepalive_s=15.0))
    api = FeedApi(services, keys=None)  # type: ignore[arg-type]
    stream = api._stream(1)
    assert await stream.__anext__() == OPENING
    assert hub.subscribers(1) == 1
    started = trio.current_time()
    assert await stream.__anext__() == KEEPALIVE
    assert trio.current_time() - started == pytest.approx(15.0)

    async def publish_later():
        await trio.sleep(3)
        hub.publish(2, feed.FEEDBACK, {"outra": True})  # another chain: no wake-up
        hub.publish(1, feed.FEEDBACK, {"n": 1})

    async with trio.open_nursery() as nursery:
        nursery.start_soon(publish_later)
        started = trio.current_time()
        chunk = await stream.__anext__()
    assert trio.current_time() - started == pytest.approx(3.0)
    assert [(kind, data) for _, kind, data in parse(chunk)] == [("feedback", {"n": 1})]
    hub.close()
    assert parse(await stream.__anext__()) == [(None, "fim", {"motivo": "Servidor encerrando"})]
    with pytest.raises(StopAsyncIteration):
        await stream.__anext__()


async def test_closing_the_stream_unsubscribes(autojump_clock):
    hub = FeedHub()
    services = SimpleNamespace(feed=hub, config=CounterConfig())
    stream = FeedApi(services, keys=None)._stream(1)  # type: ignore[arg-type]
    await stream.__anext__()
    assert hub.subscribers(1) == 1
    await stream.aclose()
    assert hub.subscribers(1) == 0
