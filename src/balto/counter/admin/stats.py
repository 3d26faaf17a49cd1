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
