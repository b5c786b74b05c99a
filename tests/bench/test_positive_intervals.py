"""Intervals of positive quantities (throughput, J/sample) never reach below zero."""

from __future__ import annotations

import math
import time

import pytest

from tests.fixtures.fake_sensors import ConstantPowerSensor
from wattwise.bench.harness import BenchResult, benchmark
from wattwise.bench.stats import METHODS, summarize

#: Few, noisy repetitions: the t interval of their mean runs far below zero.
NOISY = [1.2e5, 4.0e3, 9.0e3, 6.0e3]


def test_plain_t_interval_of_noisy_values_goes_negative_positive_one_does_not() -> None:
    assert summarize(NOISY).low < 0  # the symmetric interval: what went wrong
    s = summarize(NOISY, positive=True)
    assert 0 < s.low < s.mean < s.high
    assert s.method == "log"
    assert s.to_dict()["method"] == "log" and "log" in METHODS


def test_log_interval_is_coxs_interval_for_a_log_normal_mean() -> None:
    xs = [1.0, 2.0, 4.0, 8.0]
    logs = [math.log(x) for x in xs]
    m = sum(logs) / 4
    var = sum((y - m) ** 2 for y in logs) / 3
    half = 3.182446305284263 * math.sqrt(var / 4 + var**2 / 6)  # t(0.975, df=3)
    s = summarize(xs, positive=True)
    assert (s.low, s.high) == pytest.approx((math.exp(m + var / 2 - half),
                                             math.exp(m + var / 2 + half)))
    assert s.mean == pytest.approx(3.75)


def test_a_zero_value_uses_a_reproducible_bootstrap_that_stays_non_negative() -> None:
    xs = [0.0, 0.0, 5.0, 1.0]
    s = summarize(xs, positive=True)
    assert s.method == "bootstrap"
    assert 0 <= s.low <= s.mean <= s.high <= 5.0
    assert summarize(xs, positive=True) == s


def test_identical_positive_values_give_a_point_interval() -> None:
    s = summarize([2.0, 2.0, 2.0], positive=True)
    assert s.low == s.high == 2.0


def test_benchmark_of_noisy_repetitions_reports_positive_intervals_and_their_method(
) -> None:
    sleeps = iter([0.001, 0.05, 0.001, 0.002])

    def step() -> int:
        time.sleep(next(sleeps))
        return 1

    sensor = ConstantPowerSensor({"cpu:0": 100.0})
    res = benchmark(step, name="noisy", warmup=0, repetitions=4, calls_per_rep=1,
                    sensors=[sensor], store=False, interval_s=0.01)
    for stat in (res.throughput, res.energy_j_per_sample):
        assert stat.low > 0, stat
        assert stat.method in ("log", "bootstrap")
    d = res.to_dict()
    assert d["throughput"]["method"] == res.throughput.method
    back = BenchResult.from_dict(d)
    assert back.throughput == res.throughput


def test_stored_results_without_a_method_read_back_as_t() -> None:
    from tests.bench.test_rating import result

    d = result("old", 1.0).to_dict()
    del d["throughput"]["method"], d["energy_j_per_sample"]["method"]
    assert BenchResult.from_dict(d).throughput.method == "t"
