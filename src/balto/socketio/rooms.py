"""Server-side room membership (pure bookkeeping)."""

from __future__ import annotations

__all__ = ["Rooms"]


class Rooms:
    """Many-to-many map between socket ids and room names."""

    def __init__(self) -> None:
        self._members: dict[str, set[str]] = {}
        self._rooms_of: dict[str, set[str]] = {}

    def join(self, sid: str, room: str) -> None:
        self._members.setdefault(room, set()).add(sid)
        self._rooms_of.setdefault(sid, set()).add(room)

    def leave(self, sid: str, room: str) -> None:
        members = self._members.get(room)
        if members is not None:
            members.discard(sid)
            if not members:
                del self._members[room]
        rooms = self._rooms_of.get(sid)
        if rooms is not None:
            rooms.discard(room)
            if not rooms:
                del self._rooms_of[sid]

    def leave_all(self, sid: str) -> None:
        for room in list(self._rooms_of.get(sid, ())):
            self.leave(sid, room)

    def members(self, room: str) -> frozenset[str]:
        return frozenset(self._members.get(room, ()))

    def rooms_of(self, sid: str) -> frozenset[str]:
        return frozenset(self._rooms_of.get(sid, ()))
