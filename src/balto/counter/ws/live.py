"""Which counters have an open, authenticated session right now, and how to end them. No I/O.

Each session registers a handle (the shell passes a ``trio.Event``) under its counter's id and
waits on it; revoking a counter sets every handle it has. A session that registers after its
counter was revoked (its key was checked just before the revocation was written) finds its
handle already set, so no revoked counter keeps a socket open, whatever the interleaving.

Rotating a counter's key works the same way for one key: each handle is registered with the
hash of the key its session authenticated with, and retiring that hash sets the handles that
used it (and any registered with it later), while sessions with the new key are untouched.
"""

from __future__ import annotations

from typing import Protocol


class Handle(Protocol):
    def set(self) -> None: ...


class LiveSessions:
    def __init__(self) -> None:
        self._by_counter: dict[int, list[Handle]] = {}
        self._key_of: dict[int, str] = {}  # id(handle) -> the hash of its session's key
        self._revoked: set[int] = set()  # counter ids revoked while this process ran
        self._retired: set[tuple[int, str]] = set()  # (counter id, key hash) replaced
        self._chain_of: dict[int, int] = {}  # counter id -> its chain, while it has sessions

    def add(
        self, counter_id: int, handle: Handle, cliente_id: int | None = None, key: str = ""
    ) -> None:
        self._by_counter.setdefault(counter_id, []).append(handle)
        self._key_of[id(handle)] = key
        if cliente_id is not None:
            self._chain_of[counter_id] = cliente_id
        if counter_id in self._revoked or (counter_id, key) in self._retired:
            handle.set()

    def discard(self, counter_id: int, handle: Handle) -> None:
        handles = self._by_counter.get(counter_id, [])
        if handle in handles:
            handles.remove(handle)
            self._key_of.pop(id(handle), None)
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

    def keys(self, counter_id: int) -> set[str]:
        """The key hashes the counter's open sessions authenticated with."""
        return {self._key_of.get(id(h), "") for h in self._by_counter.get(counter_id, ())}

    def retire_key(self, counter_id: int, key: str) -> int:
        """The counter's key ``key`` (its hash) was replaced: signal the sessions that use it
        to close; return how many there were. Sessions with another key stay."""
        self._retired.add((counter_id, key))
        handles = [
            handle
            for handle in self._by_counter.get(counter_id, ())
            if self._key_of.get(id(handle)) == key
        ]
        for handle in handles:
            handle.set()
        return len(handles)

    def retired(self, counter_id: int, key: str) -> bool:
        """Whether the counter's key ``key`` was replaced (why a session was told to close)."""
        return (counter_id, key) in self._retired

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
