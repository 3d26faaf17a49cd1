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


def test_retiring_a_key_signals_only_the_sessions_that_used_it():
    live = LiveSessions()
    old, new, other = Flag(), Flag(), Flag()
    live.add(1, old, 10, "hash-old")
    live.add(1, new, 10, "hash-new")
    live.add(2, other, 10, "hash-old")  # another counter: a key hash is per counter here
    assert live.keys(1) == {"hash-old", "hash-new"}
    assert live.retire_key(1, "hash-old") == 1
    assert old.is_set and not new.is_set and not other.is_set
    assert live.retired(1, "hash-old") and not live.retired(1, "hash-new")
    live.discard(1, old)
    assert live.keys(1) == {"hash-new"}


def test_a_session_of_a_retired_key_registered_late_is_signalled_at_once():
    """Its old key was checked just before the rotation was written: it must not survive;
    one with the new key lives on."""
    live = LiveSessions()
    live.retire_key(7, "hash-old")
    late, fresh = Flag(), Flag()
    live.add(7, late, 70, "hash-old")
    live.add(7, fresh, 70, "hash-new")
    assert late.is_set and not fresh.is_set
