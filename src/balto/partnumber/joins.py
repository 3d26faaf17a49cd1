"""Late joins when tasks live in Redis, sans-IO.

A socket that emits ``join`` must get the task's replay (:func:`~balto.partnumber.tasks.replay_of`)
and then every live event, each exactly once. With the task in Redis the replay needs a read,
and the live events keep arriving on the pub/sub channel meanwhile, on another connection:
the record read may be *ahead* of the channel (its events still on their way here) or behind
it. So:

* :meth:`PendingJoins.begin`: the socket does not enter the room yet; the live messages of that
  room are kept for it (:meth:`PendingJoins.delivered`, called for every message after it was
  emitted to the room's members);
* :meth:`PendingJoins.resolve`: the record (``seq`` S) arrived. If the channel has already
  delivered the room's events up to S here, the join completes: the replay of the record, then
  the kept events with ``seq`` > S (those ≤ S are in the record). Otherwise it waits for the
  channel to catch up (:meth:`~PendingJoins.delivered` then returns it as complete), or for
  :meth:`PendingJoins.expire` (the shell's timeout: a message lost with a pub/sub reconnect).

Each completed join is ``(sid, room, emissions)``: the shell sends the emissions to the socket
and makes it enter the room in the same step, so from then on the room's emits reach it.
"""

from __future__ import annotations

import dataclasses
from collections import OrderedDict

from balto.partnumber.records import StoredTask
from balto.partnumber.tasks import Emission, replay_of
from balto.socketio.fanout import RoomMessage

__all__ = ["MAX_KEPT_PER_JOIN", "MAX_PENDING_JOINS", "Completed", "PendingJoins"]

MAX_PENDING_JOINS = 1024  # joins waiting for their read, on the whole instance
MAX_KEPT_PER_JOIN = 64  # live events kept for one pending join (a task has a handful)
MAX_ROOMS_TRACKED = 10_000  # rooms whose last delivered seq is remembered (least recent go)

Completed = tuple[str, str, list[Emission]]


@dataclasses.dataclass(slots=True)
class _Join:
    kept: list[RoomMessage] = dataclasses.field(default_factory=list)
    stored: StoredTask | None = None  # the record read, while waiting for the channel
    read: bool = False


class PendingJoins:
    def __init__(self, max_pending: int = MAX_PENDING_JOINS) -> None:
        self.max_pending = max_pending
        self._joins: dict[tuple[str, str], _Join] = {}
        self._by_room: dict[str, set[str]] = {}
        self._last_seq: OrderedDict[str, int] = OrderedDict()

    def __len__(self) -> int:
        return len(self._joins)

    def __contains__(self, key: object) -> bool:
        return key in self._joins

    def begin(self, sid: str, room: str) -> bool:
        """Mark ``sid`` joining ``room``; False when it already is, or too many are."""
        if (sid, room) in self._joins or len(self._joins) >= self.max_pending:
            return False
        self._joins[(sid, room)] = _Join()
        self._by_room.setdefault(room, set()).add(sid)
        return True

    def delivered(self, message: RoomMessage) -> list[Completed]:
        """``message`` was emitted to its room's members here: keep it for the sockets still
        joining the room; the joins it completes."""
        room = message.room
        if message.seq is not None:
            self._last_seq[room] = max(message.seq, self._last_seq.pop(room, 0))
            while len(self._last_seq) > MAX_ROOMS_TRACKED:
                self._last_seq.popitem(last=False)
        completed = []
        for sid in list(self._by_room.get(room, ())):
            join = self._joins[(sid, room)]
            if len(join.kept) < MAX_KEPT_PER_JOIN:
                join.kept.append(message)
            if join.read and self._caught_up(room, join.stored):
                completed.append((sid, room, self._complete(sid, room)))
        return completed

    def resolve(self, sid: str, room: str, stored: StoredTask | None) -> list[Emission] | None:
        """The record was read (``None``: unknown, expired or unreadable): what ``sid`` must
        get, in order, or ``None`` while the channel has not caught up with the record."""
        join = self._joins.get((sid, room))
        if join is None:
            return None
        join.stored, join.read = stored, True
        if not self._caught_up(room, stored):
            return None
        return self._complete(sid, room)

    def expire(self, sid: str, room: str) -> list[Emission] | None:
        """Waited long enough for the channel: complete the join now (``None``: done already)."""
        join = self._joins.get((sid, room))
        if join is None:
            return None
        return self._complete(sid, room)

    def _caught_up(self, room: str, stored: StoredTask | None) -> bool:
        return stored is None or stored.seq <= self._last_seq.get(room, 0)

    def _complete(self, sid: str, room: str) -> list[Emission]:
        join = self._joins.pop((sid, room))
        members = self._by_room.get(room)
        if members is not None:
            members.discard(sid)
            if not members:
                del self._by_room[room]
        stored = join.stored
        if stored is None:
            return [_emission(m) for m in join.kept]
        replay = replay_of(stored.task)
        if stored.task.ended:
            return replay  # nothing follows the end
        return replay + [_emission(m) for m in join.kept if m.seq is None or m.seq > stored.seq]


def _emission(message: RoomMessage) -> Emission:
    payload = message.args[0] if message.args else {}
    return message.event, payload
