"""The crash boundary, without a server: what it stops, what it lets through, what it logs."""

from __future__ import annotations

import logging

import pytest
import trio
from prometheus_client import CollectorRegistry, Counter

from balto.core.errors import StorageError
from balto.core.isolation import Boundary, LogThrottle, split_crash


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def boundary(clock: Clock | None = None, burst: int = 3) -> tuple[Boundary, Counter]:
    counter = Counter("crashes", "test", ["boundary"], registry=CollectorRegistry())
    throttle = LogThrottle(burst=burst, refill_s=10.0)
    return Boundary(counter, throttle=throttle, clock=clock or Clock()), counter


def count(counter: Counter, label: str) -> float:
    return counter.labels(label)._value.get()


def test_an_error_is_stopped_counted_and_logged_with_its_traceback(caplog) -> None:
    guarded, counter = boundary()
    with guarded.guard("peer", "127.0.0.1") as guard:
        raise ValueError("bug")
    assert isinstance(guard.crashed, ValueError)
    assert count(counter, "peer") == 1
    [record] = caplog.records
    assert record.levelno == logging.ERROR and record.exc_info is not None
    assert "peer [127.0.0.1] crashed" in record.getMessage()


def test_a_clean_block_is_not_a_crash() -> None:
    guarded, counter = boundary()
    with guarded.guard("peer") as guard:
        pass
    assert guard.crashed is None and count(counter, "peer") == 0


@pytest.mark.parametrize("exc", [KeyboardInterrupt(), SystemExit(3), GeneratorExit()])
def test_exits_pass_through_uncounted(exc: BaseException) -> None:
    guarded, counter = boundary()
    with pytest.raises(type(exc)), guarded.guard("peer"):
        raise exc
    assert count(counter, "peer") == 0


async def test_cancellation_passes_through() -> None:
    guarded, counter = boundary()
    with trio.CancelScope() as scope, guarded.guard("peer") as guard:
        scope.cancel()
        await trio.sleep_forever()
    assert scope.cancelled_caught and guard.crashed is None
    assert count(counter, "peer") == 0


async def test_a_nursery_with_a_crash_and_a_cancellation_keeps_both_apart() -> None:
    """A child's bug cancels its siblings: the bug is stopped, the cancellation goes on."""
    guarded, counter = boundary()

    async def crash() -> None:
        raise RuntimeError("child bug")

    with guarded.guard("session") as guard:
        async with trio.open_nursery() as nursery:
            nursery.start_soon(trio.sleep_forever)
            nursery.start_soon(crash)
    assert isinstance(guard.crashed, BaseExceptionGroup)
    assert count(counter, "session") == 1


def test_split_crash_separates_errors_from_what_must_pass() -> None:
    cancel_like = KeyboardInterrupt()
    group = BaseExceptionGroup("g", [ValueError("a"), cancel_like])
    crash, passing = split_crash(group)
    assert isinstance(crash, ExceptionGroup) and isinstance(crash.exceptions[0], ValueError)
    assert isinstance(passing, BaseExceptionGroup) and passing.exceptions == (cancel_like,)
    with pytest.raises(BaseExceptionGroup) as info:
        guarded, _ = boundary()
        with guarded.guard("peer"):
            raise group
    assert info.value.exceptions == (cancel_like,)


def test_a_flood_of_crashes_logs_a_few_tracebacks_and_counts_them_all(caplog) -> None:
    clock = Clock()
    guarded, counter = boundary(clock, burst=3)
    for _ in range(1000):
        with guarded.guard("http_request"):
            raise ValueError("same bug, every request")
    assert count(counter, "http_request") == 1000
    assert len(caplog.records) == 3
    clock.now += 10.0  # one more token
    with guarded.guard("http_request"):
        raise ValueError("later")
    assert len(caplog.records) == 4
    assert "997 more not logged" in caplog.records[-1].getMessage()


def test_our_own_typed_error_is_logged_in_one_line(caplog) -> None:
    guarded, counter = boundary()
    with guarded.guard("websocket"):
        raise StorageError("banco fora do ar")
    [record] = caplog.records
    assert record.exc_info is None and "banco fora do ar" in record.getMessage()
    assert count(counter, "websocket") == 1


def test_throttle_refills_with_time() -> None:
    throttle = LogThrottle(burst=2, refill_s=5.0)
    assert [throttle.admit(0.0) for _ in range(3)] == [True, True, False]
    assert not throttle.admit(4.0)
    assert throttle.admit(5.0)
    assert throttle.take_suppressed() == 2 and throttle.take_suppressed() == 0
