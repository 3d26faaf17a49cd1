"""The crash-isolation boundary, used at every task boundary of both servers.

Trio hands an exception that escapes a task to the task's nursery, which cancels the siblings
and re-raises: one bug reached while serving one peer would end every peer, and an exception
that escapes a ``trio.serve_listeners`` handler ends the whole server. So every task that serves
one peer or one job (an HTTP connection, a counter session, a whisper job, a Socket.IO session
or handler call, a classification job) runs inside :meth:`Boundary.guard`:

* cancellation (``trio.Cancelled``) and the other ``BaseException`` s that are not errors
  (``KeyboardInterrupt``, ``SystemExit``) pass through untouched, also out of exception groups;
* any ``Exception`` is counted (``balto_crashes_total{boundary=...}``), logged once with its
  traceback (rate-limited: a flood of the same bug cannot flood the log), and stops there;
* the guarded block is over, and ``guard.crashed`` tells the caller to end that one peer or job
  its own way (WebSocket close 1011, HTTP 500 with the JSON error body, a task marked failed).
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from prometheus_client import CollectorRegistry, Counter

from balto.core.errors import BaltoError

__all__ = ["Boundary", "Guard", "LogThrottle", "split_crash"]

log = logging.getLogger(__name__)

TRACEBACKS_BURST = 10  # full tracebacks logged at once...
TRACEBACK_REFILL_S = 6.0  # ...then one more per this many seconds (10 a minute)


class LogThrottle:
    """A token bucket for log lines, with time passed in. No I/O.

    ``admit(now)`` is True while the bucket has a token (and takes it); the lines refused in
    between are counted, and ``take_suppressed()`` hands that count to the next admitted line.
    """

    def __init__(self, *, burst: int = TRACEBACKS_BURST, refill_s: float = TRACEBACK_REFILL_S):
        if burst < 1 or refill_s <= 0:
            raise ValueError("burst must be >= 1 and refill_s > 0")
        self.burst = burst
        self.refill_s = refill_s
        self._tokens = float(burst)
        self._updated_s: float | None = None
        self._suppressed = 0

    def admit(self, now_s: float) -> bool:
        if self._updated_s is not None:
            elapsed = max(0.0, now_s - self._updated_s)
            self._tokens = min(float(self.burst), self._tokens + elapsed / self.refill_s)
        self._updated_s = now_s
        if self._tokens >= 1:
            self._tokens -= 1
            return True
        self._suppressed += 1
        return False

    def take_suppressed(self) -> int:
        count, self._suppressed = self._suppressed, 0
        return count


def split_crash(
    exc: BaseException,
) -> tuple[Exception | BaseExceptionGroup[Exception] | None, BaseException | None]:
    """Split ``exc`` into (the crash: every ``Exception`` in it, what must pass through).

    Cancellation and interpreter exits are not crashes; inside an exception group (a nursery
    whose tasks failed while others were being cancelled) both parts can be present."""
    if isinstance(exc, BaseExceptionGroup):
        crash, passing = exc.split(lambda leaf: isinstance(leaf, Exception))
        return crash, passing
    if isinstance(exc, Exception):
        return exc, None
    return None, exc


@dataclasses.dataclass(slots=True)
class Guard:
    """What :meth:`Boundary.guard` yields: after the block, ``crashed`` is the error it stopped."""

    boundary: str
    crashed: BaseException | None = None


class Boundary:
    """Counts and logs the crashes stopped at task boundaries (see the module docstring).

    ``counter`` is the Prometheus counter with one label, the boundary's name (default: one on
    a registry of its own, for a shell used without a server's metrics); one ``Boundary``
    serves a whole server, so the log throttle is shared by all of its peers.
    """

    def __init__(
        self,
        counter: Counter | None = None,
        *,
        throttle: LogThrottle | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._counter = counter or Counter(
            "balto_crashes",
            "Crashes stopped at a boundary",
            ["boundary"],
            registry=CollectorRegistry(),
        )
        self._throttle = throttle or LogThrottle()
        self._clock = clock

    @contextmanager
    def guard(self, boundary: str, peer: str = "") -> Iterator[Guard]:
        """Run the block as one isolated peer or job (see the module docstring)."""
        guard = Guard(boundary)
        try:
            yield guard
        except BaseException as exc:
            crash, passing = split_crash(exc)
            if crash is not None:
                guard.crashed = crash
                self.report(boundary, crash, peer)
            if passing is not None:
                if passing is exc:
                    raise
                raise passing from None

    def report(self, boundary: str, crash: BaseException, peer: str = "") -> None:
        """Count ``crash`` and log it, with its traceback while the throttle allows."""
        self._counter.labels(boundary).inc()
        if not self._throttle.admit(self._clock()):
            return
        suppressed = self._throttle.take_suppressed()
        more = f" ({suppressed} more not logged)" if suppressed else ""
        where = f" [{peer}]" if peer else ""
        if isinstance(crash, BaltoError):  # our own typed error, only in the wrong place
            log.error("%s%s ended: %s%s", boundary, where, crash.message, more)
        else:
            log.error("%s%s crashed, ended alone%s", boundary, where, more, exc_info=crash)
