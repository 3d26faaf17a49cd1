"""Which counters have an open, authenticated session right now, and how to end them. No I/O.

Each session registers a handle (the shell passes a ``trio.Event``) under its counter's id and
waits on it; revoking a counter sets every handle it has. A session that registers after its
counter was revoked (its key was checked just before the revocation was written) finds its
handle already set, so no revoked counter keeps a socket open, whatever the interleaving.
"""

from __future__ import annotations

from typing import Protocol


class Handle(Protocol):
    def set(self) -> None: ...


class LiveSessions:
    def __init__(self) -> None:
        self._by_counter: dict[int, list[Handle]] = {}
        self._revoked: set[int] = set()  # counter ids revoked while this process ran
        self._chain_of: dict[int, int] = {}  # counter id -> its chain, while it has sessions

    def add(self, counter_id: int, handle: Handle, cliente_id: int | None = None) -> None:
        self._by_counter.setdefault(counter_id, []).append(handle)
        if cliente_id is not None:
            self._chain_of[counter_id] = cliente_id
        if counter_id in self._revoked:
            handle.set()

    def discard(self, counter_id: int, handle: Handle) -> None:
        handles = self._by_counter.get(counter_id, [])
        if handle in handles:
            handles.remove(handle)
        if not handles:
            self._by_counter.pop(counter_id, None)
            self._chain_of.pop(counter_id, None)

    def by_chain(self) -> dict[int, set[int]]:
        """The counters with open sessions, by chain (those added with theirs): what to check
        against the store after revocations may have been missed (``counter.coord``)."""
        chains: dict[int, set[int]] = {}
        for counter_id, cliente_id in self._chain_of.items():
            chains.setdefault(cliente_id, set()).add(counter_id)
        return chains

    def count(self, counter_id: int) -> int:
        """Open authenticated sessions of the counter."""
        return len(self._by_counter.get(counter_id, ()))

    def revoke(self, counter_id: int) -> int:
        """Signal every open session of the counter to close; return how many there were."""
        self._revoked.add(counter_id)
        handles = self._by_counter.get(counter_id, [])
        for handle in handles:
            handle.set()
        return len(handles)

    def close(self, counter_id: int) -> int:
        """Signal every open session of the counter to close, without marking the id: for a
        counter deleted with its chain, whose id SQLite may give to a new counter. A session
        registered after this finds its counter gone when it records "last seen" (the store
        runs one call at a time), and its auth fails there."""
        handles = self._by_counter.get(counter_id, [])
        for handle in handles:
            handle.set()
        return len(handles)
