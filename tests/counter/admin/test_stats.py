"""The Wilson interval against published values."""

import pytest

from balto.counter.admin.stats import wilson_interval


@pytest.mark.parametrize(
    ("successes", "trials", "low", "high"),
    [
        # Newcombe (1998), "Two-sided confidence intervals for the single proportion",
        # Statistics in Medicine 17:857-872, Table I, method 3 (Wilson score, no correction).
        (81, 263, 0.2553, 0.3662),
        (15, 148, 0.0624, 0.1605),
        (0, 20, 0.0, 0.1611),
        (1, 29, 0.0061, 0.1718),
        # symmetric cases: 5/10 around 0.5, 10/10 mirrors 0/10
        (5, 10, 0.2366, 0.7634),
        (10, 10, 0.7225, 1.0),
        (0, 10, 0.0, 0.2775),
    ],
)
def test_known_values(successes, trials, low, high):
    got = wilson_interval(successes, trials)
    assert got is not None
    assert got == pytest.approx((low, high), abs=5e-5)


def test_no_trials_no_interval():
    assert wilson_interval(0, 0) is None


def test_it_narrows_with_more_trials_and_contains_the_proportion():
    small, large = wilson_interval(3, 10), wilson_interval(300, 1000)
    assert small and large
    assert small[0] < 0.3 < small[1] and large[0] < 0.3 < large[1]
    assert large[1] - large[0] < small[1] - small[0]


@pytest.mark.parametrize(("successes", "trials"), [(-1, 5), (6, 5), (0, -1)])
def test_impossible_counts_are_a_bug(successes, trials):
    with pytest.raises(ValueError):
        wilson_interval(successes, trials)
