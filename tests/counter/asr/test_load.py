"""The pool's load gauge, synchronously: time in, level and verdict out."""

from __future__ import annotations

import math

import pytest

from balto.counter.asr.load import LoadGauge


def test_the_level_follows_the_busy_fraction_with_exponential_forgetting():
    gauge = LoadGauge(high=0.5, tau_s=2.0)
    assert gauge.level(0.0) == 0.0
    gauge.report(10.0, 1.0)  # from t=10 every worker decodes
    assert gauge.level(10.0) == 0.0
    assert gauge.level(12.0) == pytest.approx(1 - math.exp(-1))
    assert gauge.level(30.0) == pytest.approx(1.0, abs=1e-4)
    gauge.report(30.0, 0.5)  # half of them from t=30
    assert gauge.level(32.0) == pytest.approx(0.5 + 0.5 * math.exp(-1), abs=1e-4)
    # a report in between changes nothing about a fraction that did not change
    split = LoadGauge(high=0.5, tau_s=2.0)
    split.report(10.0, 1.0)
    split.report(11.0, 1.0)
    assert split.level(12.0) == pytest.approx(1 - math.exp(-1))


def test_busy_has_hysteresis():
    gauge = LoadGauge(high=0.5, low=0.3, tau_s=1.0)
    gauge.report(0.0, 1.0)
    assert not gauge.busy(0.5)  # level 0.39
    assert gauge.busy(0.8)  # 0.55
    gauge.report(0.8, 0.0)
    assert gauge.busy(1.0)  # 0.45: falling, still above low
    assert gauge.busy(1.3)  # 0.33
    assert not gauge.busy(1.5)  # 0.27: released
    gauge.report(1.5, 1.0)
    assert not gauge.busy(1.6)  # 0.34: between low and high, rising: still idle


def test_the_release_level_defaults_to_a_share_of_the_threshold():
    assert LoadGauge(high=0.5).low == pytest.approx(0.3)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"high": 0.0}, "high"),
        ({"high": 1.5}, "high"),
        ({"high": 0.5, "low": 0.6}, "low"),
        ({"high": 0.5, "low": -0.1}, "low"),
        ({"high": 0.5, "tau_s": 0.0}, "tau_s"),
    ],
)
def test_bad_settings_are_refused(kwargs, match):
    with pytest.raises(ValueError, match=match):
        LoadGauge(**kwargs)


def test_a_fraction_outside_zero_one_is_refused():
    with pytest.raises(ValueError, match="fraction"):
        LoadGauge(high=0.5).report(0.0, 1.5)
