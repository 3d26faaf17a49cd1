"""The Trio side of storage: every database call runs off the event loop, in worker threads,
as many at a time as the backend allows (SQLite: one; PostgreSQL: the pool's size).

This is the one place writes go through. Calls are not cancellable once started (Trio waits
for the worker thread), so a write the server began is always finished, also at shutdown.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import ParamSpec, TypeVar

import trio

from balto.counter.store.database import Database

P = ParamSpec("P")
T = TypeVar("T")


class Store:
    def __init__(self, database: Database) -> None:
        self.database = database
        self._limiter = trio.CapacityLimiter(database.capacity)

    async def run(self, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
        """Run ``fn`` (a ``Database`` method) in a storage thread."""
        return await trio.to_thread.run_sync(partial(fn, *args, **kwargs), limiter=self._limiter)

    async def aclose(self) -> None:
        await self.run(self.database.close)
