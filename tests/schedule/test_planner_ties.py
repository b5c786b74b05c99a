"""A job moves only for a forecast saving worth more than the forecast's own error."""

from __future__ import annotations

from datetime import datetime, timezone

import numpy as np
import pytest

from wattwise.carbon.sources import IntensitySeries
from wattwise.carbon.traces import TraceSource
from wattwise.schedule import Job, plan
from wattwise.schedule.scenarios import nightly
from wattwise.schedule.simulate import simulate

H = 3600.0


def _series(values: list[float]) -> IntensitySeries:
    return IntensitySeries(H * np.arange(len(values)), np.array(values, dtype=float), "XX",
                           "test forecast", "forecast", H)


def _nightly_job() -> Job:
    # Usual start at hour 8, movable from hour 0 to hour 16.
    return Job("nightly", H, 0.0, 17 * H, zones=("XX",), baseline_start_unix_s=8 * H)


def test_a_flat_forecast_keeps_the_job_at_its_usual_time_and_says_why() -> None:
    p = plan([_nightly_job()], _series([300.0] * 24))
    (a,) = p.assignments
    assert a.start_unix_s == 8 * H
    assert a.expected_g == pytest.approx(a.baseline_g)
    assert "not moved" in a.note and "1 % threshold" in a.note
    assert any("kept at their usual time" in n for n in p.notes)


def test_a_saving_below_the_threshold_does_not_move_but_a_real_one_does() -> None:
    small = [300.0] * 24
    small[2] = 298.0  # 0.7 % cleaner: within the 1 % threshold
    assert plan([_nightly_job()], _series(small)).assignments[0].start_unix_s == 8 * H
    big = [300.0] * 24
    big[2] = 150.0
    (a,) = plan([_nightly_job()], _series(big)).assignments
    assert a.start_unix_s == 2 * H and a.note == ""


def test_the_forecasts_own_error_estimate_sets_the_bar() -> None:
    values = [300.0] * 24
    values[2] = 270.0  # 30 g/kWh cleaner
    job = _nightly_job()
    moved = plan([job], _series(values), forecast_error_g_per_kwh={"XX": 10.0})
    assert moved.assignments[0].start_unix_s == 2 * H
    kept = plan([job], _series(values), forecast_error_g_per_kwh={"XX": 40.0})
    assert kept.assignments[0].start_unix_s == 8 * H
    assert "error estimate (40 gCO2eq/kWh" in kept.assignments[0].note


def test_a_flat_last_value_forecast_no_longer_costs_carbon_in_simulation() -> None:
    # GB nightly ±8 h with the last-value forecaster: the forecast is flat, so moving
    # every job to its window's start was a coin toss that added carbon.
    jan = datetime(2020, 1, 1, tzinfo=timezone.utc).timestamp()
    mar = datetime(2020, 3, 1, tzinfo=timezone.utc).timestamp()
    r = simulate(nightly("GB", 8, jan, mar), TraceSource.for_zone("GB").full_series,
                 forecaster="persistence-last")
    assert r.strategy_g == pytest.approx(r.baseline_g)
