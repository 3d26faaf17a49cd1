"""The registry of open authenticated sessions, synchronously (handles are plain events)."""

from balto.counter.ws.live import LiveSessions


class Flag:
    def __init__(self) -> None:
        self.is_set = False

    def set(self) -> None:
        self.is_set = True


def test_counts_sessions_per_counter():
    live = LiveSessions()
    a1, a2, b = Flag(), Flag(), Flag()
    live.add(1, a1)
    live.add(1, a2)
    live.add(2, b)
    assert (live.count(1), live.count(2), live.count(3)) == (2, 1, 0)
    live.discard(1, a1)
    live.discard(1, a1)  # twice is harmless
    live.discard(3, Flag())  # so is an unknown one
    assert live.count(1) == 1
    live.discard(1, a2)
    assert live.count(1) == 0


def test_revoke_signals_only_that_counters_sessions():
    live = LiveSessions()
    a1, a2, b = Flag(), Flag(), Flag()
    for counter_id, handle in [(1, a1), (1, a2), (2, b)]:
        live.add(counter_id, handle)
    assert live.revoke(1) == 2
    assert a1.is_set and a2.is_set and not b.is_set
    assert live.revoke(3) == 0


def test_a_session_registered_after_the_revocation_is_signalled_at_once():
    """Its key was checked just before the revocation was written: it must not survive."""
    live = LiveSessions()
    live.revoke(7)
    late = Flag()
    live.add(7, late)
    assert late.is_set
    other = Flag()
    live.add(8, other)
    assert not other.is_set


def test_the_counters_with_sessions_by_chain():
    live = LiveSessions()
    a1, a2, b, anonymous = Flag(), Flag(), Flag(), Flag()
    live.add(1, a1, cliente_id=10)
    live.add(1, a2, cliente_id=10)
    live.add(2, b, cliente_id=20)
    live.add(3, anonymous)
    assert live.by_chain() == {10: {1}, 20: {2}}
    live.discard(1, a1)
    assert live.by_chain() == {10: {1}, 20: {2}}  # one session of counter 1 is still open
    live.discard(1, a2)
    live.discard(2, b)
    assert live.by_chain() == {}
