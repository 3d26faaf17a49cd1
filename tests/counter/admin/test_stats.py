"""The Wilson interval against published values."""

import pytest

from balto.counter.admin.stats import (
    chi_square_sf,
    fisher_exact,
    homogeneity_test,
    min_expected,
    wilson_interval,
)


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


# -- comparing proportions (the wording experiments' verdict) ---------------------------------


def test_homogeneity_matches_the_textbook_k_proportions_example():
    """R's ``prop.test(smokers, patients)`` (Fleiss, "Statistical Methods for Rates and
    Proportions", 1981, p. 139): X-squared = 12.6, df = 3, p-value = 0.005585."""
    chi2, df, p = homogeneity_test([83, 90, 129, 70], [86, 93, 136, 82])
    assert (round(chi2, 1), df) == (12.6, 3)
    assert p == pytest.approx(0.005585, abs=5e-7)


def test_two_groups_are_the_pooled_two_proportion_z_test():
    """45/100 against 30/100: z = 0.15 / sqrt(0.375 * 0.625 * (2/100)) = 2.1909, chi2 = z^2."""
    chi2, df, p = homogeneity_test([45, 30], [100, 100])
    assert df == 1 and chi2 == pytest.approx(2.19089**2, rel=1e-5)
    assert p == pytest.approx(0.028460, abs=1e-6)  # 2 * (1 - Phi(2.1909))


def test_groups_without_trials_are_left_out_and_equal_extremes_give_p_1():
    assert (
        homogeneity_test([45, 0, 30], [100, 0, 100])[:2]
        == homogeneity_test([45, 30], [100, 100])[:2]
    )
    assert homogeneity_test([0, 0], [5, 9]) == (0.0, 1, 1.0)
    assert homogeneity_test([5, 9], [5, 9]) == (0.0, 1, 1.0)
    with pytest.raises(ValueError):
        homogeneity_test([1, 0], [3, 0])


@pytest.mark.parametrize(
    ("x", "df"),
    # the 5% and 1% critical values of the chi-square table
    [(3.841459, 1), (5.991465, 2), (7.814728, 3), (9.487729, 4), (11.070498, 5)],
)
def test_chi_square_tail_at_the_tables_critical_values(x, df):
    assert chi_square_sf(x, df) == pytest.approx(0.05, abs=1e-7)


@pytest.mark.parametrize(("x", "df"), [(6.634897, 1), (9.210340, 2), (15.086272, 5)])
def test_chi_square_tail_at_one_percent(x, df):
    assert chi_square_sf(x, df) == pytest.approx(0.01, abs=1e-7)


@pytest.mark.parametrize(
    ("table", "p"),
    [
        ((3, 1, 1, 3), 0.4857),  # Fisher's lady tasting tea (1935): 34/70
        ((1, 9, 11, 3), 0.002759),  # the dieting example of Wikipedia's "Fisher's exact test"
        ((0, 5, 5, 0), 0.007937),  # 2 / C(10, 5)
        ((2, 2, 2, 2), 1.0),
        ((0, 0, 0, 0), 1.0),
    ],
)
def test_fisher_exact_known_values(table, p):
    assert fisher_exact(*table) == pytest.approx(p, abs=5e-5)


def test_min_expected_is_cochrans_cell():
    assert min_expected([3, 1], [4, 4]) == 2.0
    assert min_expected([45, 30], [100, 100]) == pytest.approx(37.5)
