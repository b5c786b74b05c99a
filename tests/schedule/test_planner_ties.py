"""A job moves only for a forecast saving worth more than the forecast's own error."""

from __future__ import annotations

from datetime import datetime, timezone

import numpy as np
import pytest

from wattwise.carbon.forecast import Forecast, ForecastError, SeasonalForecaster, forecast_at
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


def _forecast(values: list[float], error_g_per_kwh: float) -> Forecast:
    err = ForecastError("seasonal", 24.0, 7.0, 29, 2 * error_g_per_kwh, 10.0, error_g_per_kwh)
    return Forecast(H * np.arange(len(values)), np.array(values, dtype=float), "XX",
                    "forecast:seasonal from test", "forecast", H, error=err)


def test_a_forecasts_own_error_estimate_replaces_the_one_percent_default() -> None:
    values = [300.0] * 24
    values[2] = 270.0  # 10 % cleaner: well above 1 %
    kept = plan([_nightly_job()], _forecast(values, 40.0))
    (a,) = kept.assignments
    assert a.start_unix_s == 8 * H
    assert "error estimate (40 gCO2eq/kWh" in a.note and "backtest of seasonal" in a.note
    rule = [n for n in kept.notes if n.startswith("tie rule")]
    assert rule == ["tie rule: a job moves only for a forecast saving above XX: the forecast "
                    "error, 40 gCO2eq/kWh (backtest of seasonal over the 7 days before the "
                    "forecast, 29 origins, up to 24 h ahead: 40 gCO2eq/kWh mean error of a "
                    "difference between two hours, level MAE 80 gCO2eq/kWh (10.0 %))"]
    assert plan([_nightly_job()], _forecast(values, 10.0)).assignments[0].start_unix_s == 2 * H
    # An error given for the zone wins over the forecast's own.
    given = plan([_nightly_job()], _forecast(values, 40.0), forecast_error_g_per_kwh={"XX": 1.0})
    assert given.assignments[0].start_unix_s == 2 * H
    assert any("XX: the forecast error, 1 gCO2eq/kWh (given for XX)" in n for n in given.notes)


def test_every_plan_says_what_a_move_had_to_beat() -> None:
    p = plan([_nightly_job()], _series([300.0] * 24))
    assert any(n == "tie rule: a job moves only for a forecast saving above XX: 1 % of running "
               "at the usual time (the forecast gives no error estimate)" for n in p.notes)


def test_a_forecast_made_by_forecast_at_brings_its_error_scenarios_to_the_plan() -> None:
    day = 86400.0
    t = H * np.arange(24 * 40)
    rng = np.random.default_rng(4)
    series = IntensitySeries(t, 300 + 60 * np.sin(2 * np.pi * t / day) + rng.normal(0, 20, t.size),
                             "XX", "test trace", "trace", H)
    origin = 35 * day
    fc = forecast_at(SeasonalForecaster(), series, origin, day)
    assert fc.scenarios is not None and fc.scenarios.shape == (28, 24)
    job = Job("j", H, origin, origin + day, zones=("XX",))
    p = plan([job], fc)
    assert any("XX: a probability of saving carbon of at least 0.5, from the forecast's "
               "errors on the previous 28 days" in n for n in p.notes)
    (a,) = p.assignments
    # The move to the forecast's cheapest hour is priced under each day's error: the
    # share of days on which it saves is the probability the plan reports.
    best = plan([job], fc, forecast_error_g_per_kwh={"XX": 0.0}).assignments[0]
    i_u, i_b = 0, round((best.start_unix_s - origin) / H)
    real = (best.baseline_g - best.expected_g) - (fc.scenarios[:, i_u] - fc.scenarios[:, i_b])
    p_save = float(np.mean(real > 0))
    if p_save >= 0.5 and real.mean() > 0:
        assert a.chunks == best.chunks and a.p_save == pytest.approx(p_save)
    else:
        assert a.start_unix_s == origin and "probability of saving carbon" in a.note
    assert p_save > 0.5  # a clean daily cycle: the forecast is usually right


def test_a_move_that_saves_as_often_as_it_loses_stays_at_its_usual_time() -> None:
    values = [300.0] * 24
    values[2] = 290.0  # forecast 10 g/kWh cleaner at 02:00 than at the usual 08:00
    err = np.zeros((10, 24))
    err[:5, 2] = -30.0  # on half the past days 02:00 came in 30 g/kWh dirtier than forecast
    fc = Forecast(H * np.arange(24), np.array(values), "XX", "forecast:test", "forecast", H,
                  scenarios=err)
    (a,) = plan([_nightly_job()], fc, p_min=0.6).assignments
    assert a.start_unix_s == 8 * H and "0.50" in a.note
    (b,) = plan([_nightly_job()], fc).assignments
    # At the default p_min, 0.5, the probability passes, but the expected saving
    # (10 - 15 g) does not.
    assert b.start_unix_s == 8 * H and "expected saving -5 g" in b.note
    err[:5, 2] = -5.0  # now the misses are small: expected saving 7.5 g/kWh, P = 1
    fc2 = Forecast(H * np.arange(24), np.array(values), "XX", "forecast:test", "forecast", H,
                   scenarios=err)
    (c,) = plan([_nightly_job()], fc2).assignments
    assert c.start_unix_s == 2 * H and c.p_save == 1.0


@pytest.mark.parametrize("method", ["milp", "greedy"])
def test_under_capacity_a_move_costs_what_its_error_scenarios_say(method: str) -> None:
    values = [300.0] * 24
    values[2] = 290.0
    err = np.zeros((10, 24))
    err[:5, 2] = -30.0  # half the days 02:00 was 30 g/kWh dirtier than forecast
    risky = Forecast(H * np.arange(24), np.array(values), "XX", "forecast:test", "forecast",
                     H, scenarios=err)
    (a,) = plan([_nightly_job()], risky, capacity={"XX": 1}, method=method).assignments
    assert a.start_unix_s == 8 * H  # a 10 g saving does not pay a 15 g bar (the median miss)
    err[:5, 2] = -5.0
    safe = Forecast(H * np.arange(24), np.array(values), "XX", "forecast:test", "forecast",
                    H, scenarios=err)
    (b,) = plan([_nightly_job()], safe, capacity={"XX": 1}, method=method).assignments
    assert b.start_unix_s == 2 * H
