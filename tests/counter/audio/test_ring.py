from __future__ import annotations

import collections

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from balto.counter.audio.ring import AudioRing


def _seq(start: int, n: int) -> np.ndarray:
    return np.arange(start, start + n, dtype=np.float32)


def test_write_and_read_in_order() -> None:
    ring = AudioRing(8)
    assert ring.write(_seq(0, 5)) == 0
    assert len(ring) == 5
    np.testing.assert_array_equal(ring.read(3), [0, 1, 2])
    assert len(ring) == 2


def test_wrap_around() -> None:
    ring = AudioRing(8)
    ring.write(_seq(0, 6))
    ring.read(5)
    assert ring.write(_seq(6, 6)) == 0  # crosses the end of the buffer
    np.testing.assert_array_equal(ring.read(100), [5, 6, 7, 8, 9, 10, 11])
    assert len(ring) == 0


def test_full_ring_drops_the_oldest_unread_samples() -> None:
    ring = AudioRing(8)
    ring.write(_seq(0, 6))
    assert ring.write(_seq(6, 5)) == 3
    assert len(ring) == 8
    np.testing.assert_array_equal(ring.read(), _seq(3, 8))
    assert ring.dropped_total == 3
    assert ring.written_total == 11


def test_chunk_larger_than_capacity_keeps_its_newest_samples() -> None:
    ring = AudioRing(4)
    ring.write(_seq(0, 2))
    assert ring.write(_seq(2, 10)) == 2 + 6
    np.testing.assert_array_equal(ring.read(), [8, 9, 10, 11])
    assert ring.dropped_total == 8


def test_read_empty_and_zero() -> None:
    ring = AudioRing(4)
    assert ring.read(10).shape == (0,)
    ring.write([1.0, 2.0])
    assert ring.read(0).shape == (0,)
    assert ring.read(-3).shape == (0,)
    assert ring.read().dtype == np.float32


def test_capacity_must_be_positive() -> None:
    with pytest.raises(ValueError):
        AudioRing(0)


@settings(max_examples=150, deadline=None)
@given(
    capacity=st.integers(1, 40),
    ops=st.lists(
        st.one_of(
            st.tuples(st.just("w"), st.integers(0, 60)),
            st.tuples(st.just("r"), st.integers(0, 60)),
        ),
        max_size=40,
    ),
)
def test_matches_a_bounded_deque(capacity: int, ops: list[tuple[str, int]]) -> None:
    ring = AudioRing(capacity)
    model: collections.deque[float] = collections.deque()
    counter = 0
    dropped = 0
    for op, n in ops:
        if op == "w":
            chunk = _seq(counter, n)
            counter += n
            before = len(model)
            model.extend(chunk.tolist())
            expected_drop = max(0, before + n - capacity)
            for _ in range(expected_drop):
                model.popleft()
            dropped += expected_drop
            assert ring.write(chunk) == expected_drop
        else:
            expected = [model.popleft() for _ in range(min(n, len(model)))]
            np.testing.assert_array_equal(ring.read(n), expected)
        assert len(ring) == len(model) <= capacity
    assert ring.dropped_total == dropped
    assert ring.written_total == counter
