"""Confidence intervals and latency percentiles over repetitions."""

from __future__ import annotations

import math

import pytest

from wattwise.bench.stats import percentiles_ms, summarize
from wattwise.errors import BadInput


def test_interval_uses_student_t_for_few_repetitions() -> None:
    s = summarize([1.0, 2.0, 3.0, 4.0, 5.0])
    std = math.sqrt(2.5)
    half = 2.7764451051977987 * std / math.sqrt(5)  # t(0.975, df=4)
    assert s.mean == pytest.approx(3.0)
    assert s.std == pytest.approx(std)
    assert (s.low, s.high) == pytest.approx((3.0 - half, 3.0 + half))
    assert s.n == 5


def test_single_value_has_zero_width_interval_and_says_n_1() -> None:
    s = summarize([7.5])
    assert (s.mean, s.low, s.high, s.std, s.n) == (7.5, 7.5, 7.5, 0.0, 1)
    assert "n=1" in str(s)


def test_identical_values_give_a_point_interval() -> None:
    s = summarize([2.0, 2.0, 2.0])
    assert s.low == s.high == 2.0


@pytest.mark.parametrize("bad", [[], [1.0, math.nan], [math.inf]])
def test_empty_or_non_finite_values_are_bad_input(bad: list[float]) -> None:
    with pytest.raises(BadInput):
        summarize(bad)


def test_percentiles_are_in_milliseconds() -> None:
    p = percentiles_ms([i / 1000 for i in range(1, 101)])  # 1..100 ms
    assert p["p50"] == pytest.approx(50.5)
    assert p["p90"] == pytest.approx(90.1)
    assert p["p99"] == pytest.approx(99.01)
