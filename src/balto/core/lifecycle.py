"""Graceful shutdown, shared by every connection of a server."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import trio


class Lifecycle:
    """``stop()`` starts a graceful shutdown.

    Connections wait for their next request inside ``idle()``, which is cancelled at once when
    the server stops; WebSocket sessions wait on ``stopping`` and close with 1001.
    """

    def __init__(self) -> None:
        self.stopping = trio.Event()
        self._idle: set[trio.CancelScope] = set()

    def stop(self) -> None:
        self.stopping.set()
        for scope in list(self._idle):
            scope.cancel()

    @contextmanager
    def idle(self, timeout_s: float) -> Iterator[trio.CancelScope]:
        scope = trio.CancelScope(deadline=trio.current_time() + timeout_s)
        if self.stopping.is_set():
            scope.cancel()
        self._idle.add(scope)
        try:
            with scope:
                yield scope
        finally:
            self._idle.discard(scope)
