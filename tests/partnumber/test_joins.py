"""Sans-IO: task records round-trip, room messages, and late joins merged with live events."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from balto.partnumber.classify.models import Classification, ClassifyRequest, Progress
from balto.partnumber.joins import PendingJoins
from balto.partnumber.records import BadRecord, StoredTask, decode_task, encode_task, room_messages
from balto.partnumber.tasks import FINISHED_EVENT, STATUS_EVENT, Task, TaskRegistry
from balto.socketio.fanout import (
    BadRoomMessage,
    RoomMessage,
    decode_room_message,
    encode_room_message,
)
from tests.partnumber.doubles import BEST, OTHER


def new_task() -> tuple[TaskRegistry, Task]:
    registry = TaskRegistry()
    task = registry.create(ClassifyRequest("PN-1", "Notebook"), 1.0, socket_session_id="s")
    return registry, task


def result() -> Classification:
    return Classification("PN-1", "Notebook", BEST, [BEST, OTHER], 0.9, "modelo", "ok")


def test_a_record_round_trips_in_every_state():
    registry, task = new_task()
    assert decode_task(encode_task(task)).snapshot() == task.snapshot()
    registry.progress(task.task_id, Progress(1, 3, "Normalizando ção"))
    assert decode_task(encode_task(task)).snapshot() == task.snapshot()
    registry.finish(task.task_id, result(), 2.0)
    again = decode_task(encode_task(task))
    assert again.snapshot() == task.snapshot() and again.ended and again.finished_at == 2.0


@pytest.mark.parametrize(
    "data", [b"", b"[]", b"{}", b'{"task_id": 1}', b"\xff", b'{"task_id":"t","room_id":"r"}']
)
def test_a_bad_record_is_a_typed_error(data: bytes):
    with pytest.raises(BadRecord):
        decode_task(data)


def test_room_messages_round_trip_and_garbage_is_refused():
    message = RoomMessage("sala", STATUS_EVENT, ({"a": "ç"},), 3)
    assert decode_room_message(encode_room_message(message)) == message
    for bad in (b"x", b"[]", b'{"to": "r"}', b'{"to":"r","event":"e","args":[],"seq":true}'):
        with pytest.raises(BadRoomMessage):
            decode_room_message(bad)


def stored(task: Task, seq: int) -> StoredTask:
    return StoredTask(decode_task(encode_task(task)), seq)


def messages(task: Task, emissions, seq: int) -> list[RoomMessage]:
    return room_messages(task, emissions, seq)


def test_a_join_gets_the_record_then_only_the_newer_live_events():
    registry, task = new_task()
    joins = PendingJoins()
    step1 = messages(task, registry.progress(task.task_id, Progress(1, 3, "um")), 1)
    assert joins.delivered(step1[0]) == []  # seen here before anyone joined
    assert joins.begin("sid", task.room_id) and not joins.begin("sid", task.room_id)
    record = stored(task, 1)  # read while step 2 is on its way
    step2 = messages(task, registry.progress(task.task_id, Progress(2, 3, "dois")), 2)
    assert joins.delivered(step2[0]) == []  # kept: the join is not complete
    emissions = joins.resolve("sid", task.room_id, record)
    assert [p["current"] for _, p in emissions or []] == ["1", "2"]
    assert ("sid", task.room_id) not in joins and len(joins) == 0


def test_a_record_ahead_of_the_channel_waits_for_its_events():
    registry, task = new_task()
    joins = PendingJoins()
    joins.begin("sid", task.room_id)
    finish = messages(task, registry.finish(task.task_id, result(), 2.0), 1)
    assert joins.resolve("sid", task.room_id, stored(task, 1)) is None  # the finish is in flight
    ((sid, room, emissions),) = joins.delivered(finish[0])
    assert (sid, room) == ("sid", task.room_id)
    assert [event for event, _ in emissions] == [FINISHED_EVENT]  # once: the record's replay


def test_an_unknown_room_and_an_expired_wait():
    registry, task = new_task()
    joins = PendingJoins(max_pending=1)
    joins.begin("a", "nenhuma")
    assert not joins.begin("b", "outra")  # the bound
    assert joins.resolve("a", "nenhuma", None) == []
    joins.begin("b", task.room_id)
    registry.finish(task.task_id, result(), 2.0)
    assert joins.resolve("b", task.room_id, stored(task, 7)) is None
    assert [e for e, _ in joins.expire("b", task.room_id) or []] == [FINISHED_EVENT]
    assert joins.expire("b", task.room_id) is None


@given(st.data())
def test_any_interleaving_gives_each_event_once_and_in_order(data: st.DataObject):
    """The channel delivers the task's messages in order, lagging the records by any amount;
    a socket joins and its record read lands anywhere in between: it ends up with the task's
    events from some point on, each once, in order, and the result exactly once."""
    registry, task = new_task()
    steps = data.draw(st.integers(0, 4))
    published: list[RoomMessage] = []
    records: list[StoredTask] = [stored(task, 0)]
    for n in range(1, steps + 1):
        emissions = registry.progress(task.task_id, Progress(n, steps, f"etapa {n}"))
        published += messages(task, emissions, n)
        records.append(stored(task, n))
    finish = registry.finish(task.task_id, result(), 9.0)
    published += messages(task, finish, steps + 1)
    records.append(stored(task, steps + 1))

    joins, received, in_room = PendingJoins(), [], False
    delivered = begun_at = 0
    began = read = False
    while delivered < len(published) or not read:
        actions = ["deliver"] if delivered < len(published) else []
        if not began:
            actions.append("begin")
        elif not read:
            actions.append("read")
        action = data.draw(st.sampled_from(actions))
        if action == "deliver":
            message = published[delivered]
            delivered += 1
            if in_room:
                received.append((message.event, message.args[0]))
            for _sid, _room, emissions in joins.delivered(message):
                received += emissions
                in_room = True
        elif action == "begin":
            began, begun_at = True, delivered
            joins.begin("sid", task.room_id)
        else:
            read = True
            # The record read sees every transition made so far (at least the delivered ones).
            latest = records[data.draw(st.integers(delivered, len(published)))]
            emissions = joins.resolve("sid", task.room_id, latest)
            if emissions is not None:
                received += emissions
                in_room = True
    assert in_room and len(joins) == 0
    events = [event for event, _ in received]
    assert events.count(FINISHED_EVENT) == 1 and events[-1] == FINISHED_EVENT
    currents = [int(p["current"]) for event, p in received if event == STATUS_EVENT]
    if currents:  # from where the socket came in to the last step: none missed, none twice
        assert currents == list(range(currents[0], steps + 1))
    assert begun_at <= delivered
