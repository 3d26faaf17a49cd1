"""Small statistics for the reports, without I/O."""

from __future__ import annotations

import math

#: The two-sided 95% quantile of the standard normal distribution.
Z_95 = 1.959963984540054


def wilson_interval(successes: int, trials: int, z: float = Z_95) -> tuple[float, float] | None:
    """The Wilson score interval of a binomial proportion (Wilson 1927; Newcombe 1998,
    method 3, no continuity correction). None without trials: nothing to estimate.

    Unlike the normal approximation p ± z·sqrt(p(1-p)/n) it stays inside [0, 1] and does
    not collapse to a point at 0 or n successes, which is what small counters produce."""
    if trials < 0 or not 0 <= successes <= trials:
        raise ValueError(f"need 0 <= successes <= trials, got {successes}/{trials}")
    if trials == 0:
        return None
    p = successes / trials
    z2 = z * z
    denominator = 1 + z2 / trials
    center = (p + z2 / (2 * trials)) / denominator
    half = z * math.sqrt(p * (1 - p) / trials + z2 / (4 * trials * trials)) / denominator
    return max(0.0, center - half), min(1.0, center + half)


def chi_square_sf(x: float, df: int) -> float:
    """P(X >= x) for a chi-square variable with ``df`` (a positive integer) degrees of freedom,
    in closed form: the upper regularized gamma Q(df/2, x/2) for integer and half-integer
    shapes (Abramowitz & Stegun 26.4.4 and 26.4.5)."""
    if df < 1:
        raise ValueError(f"df must be >= 1, got {df}")
    if x <= 0:
        return 1.0
    half = x / 2
    if df % 2 == 0:
        term, total = 1.0, 1.0
        for i in range(1, df // 2):
            term *= half / i
            total += term
        return min(1.0, math.exp(-half) * total)
    total = math.erfc(math.sqrt(half))
    for i in range(1, (df - 1) // 2 + 1):
        total += math.exp((i - 0.5) * math.log(half) - half - math.lgamma(i + 0.5))
    return min(1.0, total)


def homogeneity_test(successes: list[int], trials: list[int]) -> tuple[float, int, float]:
    """Pearson's chi-square test that k proportions are equal (the k x 2 table, no continuity
    correction; for k = 2 it is the pooled two-proportion z-test, chi2 = z^2). Returns
    (chi2, degrees of freedom, p-value). Groups without trials are left out."""
    pairs = [(s, n) for s, n in zip(successes, trials, strict=True) if n > 0]
    if len(pairs) < 2:
        raise ValueError("need at least two groups with trials")
    total_s = sum(s for s, _ in pairs)
    total_n = sum(n for _, n in pairs)
    pooled = total_s / total_n
    if pooled in (0.0, 1.0):
        return 0.0, len(pairs) - 1, 1.0  # every group all failures (or all successes)
    chi2 = sum((s - n * pooled) ** 2 / (n * pooled * (1 - pooled)) for s, n in pairs)
    df = len(pairs) - 1
    return chi2, df, chi_square_sf(chi2, df)


def min_expected(successes: list[int], trials: list[int]) -> float:
    """The smallest expected cell count of the k x 2 table under equal proportions (Cochran's
    rule wants 5 or more for the chi-square approximation)."""
    total_n = sum(trials)
    if total_n == 0:
        return 0.0
    pooled = sum(successes) / total_n
    return min(min(n * pooled, n * (1 - pooled)) for n in trials if n > 0)


def fisher_exact(a: int, b: int, c: int, d: int) -> float:
    """Two-sided p-value of Fisher's exact test of the 2 x 2 table [[a, b], [c, d]]: the sum of
    the probabilities (hypergeometric, margins fixed) of the tables no more likely than this
    one (R's ``fisher.test``, with its relative tolerance 1e-7)."""
    if min(a, b, c, d) < 0:
        raise ValueError("counts must be >= 0")
    row1, col1, n = a + b, a + c, a + b + c + d
    if n == 0:
        return 1.0
    denominator = math.comb(n, col1)

    def probability(x: int) -> float:
        return math.comb(row1, x) * math.comb(n - row1, col1 - x) / denominator

    observed = probability(a)
    low, high = max(0, col1 - (n - row1)), min(row1, col1)
    p = sum(q for x in range(low, high + 1) if (q := probability(x)) <= observed * (1 + 1e-7))
    return min(1.0, p)
