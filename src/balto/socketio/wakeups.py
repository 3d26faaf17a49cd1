"""Per-session wakeups for the Trio shell: one :class:`trio.Event` per Engine.IO sid.

The shell calls :meth:`Wakeups.wake` for each ``OutputPending(engine_sid)`` event the sans-IO
server returns, i.e. whenever a parked GET or a WebSocket writer of that session may have
something to do. A waiter checks the session state
and then calls :meth:`Wakeups.wait` with no checkpoint in between, so no wakeup can be lost:
:meth:`Wakeups.wake` sets the current event (releasing every waiter of that sid) and forgets it,
so the next wait starts with a fresh event.
"""

from __future__ import annotations

import trio

__all__ = ["Wakeups"]


class Wakeups:
    def __init__(self) -> None:
        self._events: dict[str, trio.Event] = {}

    def __len__(self) -> int:
        return len(self._events)

    def wake(self, sid: str) -> None:
        event = self._events.pop(sid, None)
        if event is not None:
            event.set()

    async def wait(self, sid: str) -> None:
        """Block until the next :meth:`wake` for ``sid``."""
        event = self._events.get(sid)
        if event is None:
            event = self._events[sid] = trio.Event()
        try:
            await event.wait()
        finally:
            # Cancelled (client gone, shutdown): forget the event unless another task of the
            # same session still waits on it, so abandoned sessions leave nothing behind.
            if (
                not event.is_set()
                and self._events.get(sid) is event
                and event.statistics().tasks_waiting == 0
            ):
                del self._events[sid]
