"""Forecasters: no peeking past the origin, baselines exact, evaluation and noise."""

from __future__ import annotations

import numpy as np
import pytest

from wattwise.carbon.forecast import (
    DAY_S,
    HOUR_S,
    Backtest,
    Forecast,
    PersistenceForecaster,
    SeasonalForecaster,
    evaluate,
    forecast_at,
    with_noise,
)
from wattwise.carbon.sources import IntensitySeries
from wattwise.errors import BadInput

STEP = 1800.0
T0 = 1_577_836_800.0  # 2020-01-01T00:00Z


def make_series(values: np.ndarray, step: float = STEP, t0: float = T0) -> IntensitySeries:
    return IntensitySeries(
        t_unix_s=t0 + step * np.arange(values.size),
        g_per_kwh=values,
        zone="DE",
        source="test",
        kind="trace",
        step_s=step,
    )


def daily_wave(days: int, step: float = STEP, noise: float = 0.0, seed: int = 0,
               weekend: float = 20.0) -> np.ndarray:
    t = np.arange(int(days * DAY_S / step)) * step
    rng = np.random.default_rng(seed)
    weekly = weekend * (np.floor(t / DAY_S) % 7 >= 5)  # weekends differ
    return 300 + 80 * np.sin(2 * np.pi * t / DAY_S) - weekly + noise * rng.standard_normal(t.size)


FORECASTERS = [
    lambda: PersistenceForecaster("last"),
    lambda: PersistenceForecaster("yesterday"),
    lambda: SeasonalForecaster(),
]


@pytest.mark.parametrize("make", FORECASTERS)
def test_changing_data_after_the_origin_does_not_change_the_forecast(make) -> None:  # type: ignore[no-untyped-def]
    values = daily_wave(40, noise=15.0)
    series = make_series(values.copy())
    origin = T0 + 30 * DAY_S
    before = forecast_at(make(), series, origin, 48 * HOUR_S)
    tampered = values.copy()
    k = int((origin - T0) / STEP)
    tampered[k:] = np.random.default_rng(9).uniform(0, 2000, tampered.size - k)
    after = forecast_at(make(), make_series(tampered.copy()), origin, 48 * HOUR_S)
    np.testing.assert_array_equal(before.g_per_kwh, after.g_per_kwh)
    # The forecast's own error estimate does not peek either.
    assert before.error is not None and before.error == after.error
    # ...while changing data before the origin does change both.
    tampered[k - 1] += 500.0
    moved = forecast_at(make(), make_series(tampered), origin, 48 * HOUR_S)
    assert not np.array_equal(before.g_per_kwh, moved.g_per_kwh)
    assert moved.error is not None and moved.error.mae_g_per_kwh > before.error.mae_g_per_kwh


@pytest.mark.parametrize("make", FORECASTERS)
def test_the_error_estimate_scores_only_values_that_ended_by_the_origin(make) -> None:  # type: ignore[no-untyped-def]
    # Origin mid-period on a 30-min grid: the period holding the origin has not ended,
    # so no backtest may score it; changing it (and all after) changes nothing.
    values = daily_wave(40, noise=15.0)
    origin = T0 + 30 * DAY_S - 600.0
    bt = Backtest(make(), make_series(values.copy()))
    before = bt.error(origin, 24 * HOUR_S)
    tampered = values.copy()
    k = int((origin - T0) // STEP)  # the period that holds the origin
    tampered[k:] = 2000.0
    after = Backtest(make(), make_series(tampered)).error(origin, 24 * HOUR_S)
    assert before is not None and before == after
    assert all(o + 24 * HOUR_S <= origin for o in bt.origins(origin, 24 * HOUR_S))


def test_a_forecast_carries_its_backtested_error_level_and_difference_apart() -> None:
    # A daily square wave (100 from 00:00 to 12:00 UTC, 300 after), hourly. The last value
    # 6 h ahead, from origins on a 6-hour grid: from 00:00 and 12:00 it is off by 200 for
    # all six hours (a level error); from 06:00 and 18:00 it is right. It is never wrong
    # about the difference between two hours of one window, so that error is 0.
    hours = np.arange(24 * 20)
    values = np.where(hours % 24 < 12, 100.0, 300.0)
    series = make_series(values, step=HOUR_S)
    origin = T0 + 15 * DAY_S
    fc = forecast_at(PersistenceForecaster("last"), series, origin, 6 * HOUR_S)
    assert isinstance(fc, Forecast) and fc.error is not None
    origins = Backtest(PersistenceForecaster("last"), series).origins(origin, 6 * HOUR_S)
    wrong = [(o - T0) % DAY_S in (0.0, 12 * HOUR_S) for o in origins]
    assert fc.error.n_origins == len(origins) == 29
    assert fc.error.mae_g_per_kwh == pytest.approx(200.0 * np.mean(wrong))
    mape = [200.0 if (o - T0) % DAY_S == 0 else 200.0 / 3 if w else 0.0
            for o, w in zip(origins, wrong, strict=True)]
    assert fc.error.mape_pct == pytest.approx(np.mean(mape))
    assert fc.error_g_per_kwh == 0.0 == fc.error.difference_mae_g_per_kwh
    assert "backtest of persistence-last over the 7 days" in fc.error_basis
    assert any("forecast error: backtest" in n for n in fc.notes)
    # The same time yesterday is exactly right on a daily cycle.
    exact = forecast_at(PersistenceForecaster("yesterday"), series, origin, 6 * HOUR_S)
    assert exact.error is not None and exact.error.mae_g_per_kwh == 0.0


def test_a_difference_error_counts_every_pair_of_hours() -> None:
    # Persistence-last over 2 h on a series that is 100 then 300 within each 2-hour block
    # starting at an origin: the forecast (the last hour, 300) is right for the second
    # hour and 200 too high for the first, so the difference between them is off by 200.
    hours = np.arange(24 * 12)
    values = np.where(hours % 2 == 0, 100.0, 300.0)
    series = make_series(values, step=HOUR_S)
    err = Backtest(PersistenceForecaster("last"), series).error(T0 + 10 * DAY_S, 2 * HOUR_S)
    assert err is not None
    assert err.difference_mae_g_per_kwh == pytest.approx(200.0)
    assert err.mae_g_per_kwh == pytest.approx(100.0)


def test_too_little_history_gives_no_error_estimate_and_says_so() -> None:
    series = make_series(daily_wave(3))
    fc = forecast_at(PersistenceForecaster("last"), series, T0 + 2 * DAY_S, 12 * HOUR_S)
    assert fc.error is None and fc.error_g_per_kwh is None
    assert any("no error estimate" in n for n in fc.notes)


def test_noise_is_scored_as_part_of_the_forecast() -> None:
    series = make_series(daily_wave(20, noise=5.0))
    bt = Backtest(SeasonalForecaster(), series)
    clean = bt.error(T0 + 18 * DAY_S, 12 * HOUR_S)
    noisy = bt.error(T0 + 18 * DAY_S, 12 * HOUR_S, noise_sigma=0.2, seed=3)
    assert clean is not None and noisy is not None
    assert noisy.difference_mae_g_per_kwh > 2 * clean.difference_mae_g_per_kwh
    assert "with noise N(0, 0.2)" in noisy.forecaster
    assert noisy == bt.error(T0 + 18 * DAY_S, 12 * HOUR_S, noise_sigma=0.2, seed=3)
    with pytest.raises(BadInput):
        bt.error(T0 + 18 * DAY_S, 12 * HOUR_S, noise_sigma=-1.0)


def test_persistence_last_repeats_the_last_value() -> None:
    values = daily_wave(3)
    f = PersistenceForecaster("last").fit(make_series(values))
    fc = f.predict(T0 + 3 * DAY_S, 6 * HOUR_S, STEP)
    assert fc.kind == "forecast"
    assert np.all(fc.g_per_kwh == values[-1])
    assert any("estimated" in n for n in fc.notes)


def test_persistence_yesterday_repeats_the_last_day_at_every_horizon() -> None:
    values = np.arange(96, dtype=float) + 100  # two days, strictly rising
    f = PersistenceForecaster("yesterday").fit(make_series(values))
    fc = f.predict(T0 + 2 * DAY_S, 2 * DAY_S, STEP)
    np.testing.assert_array_equal(fc.g_per_kwh[:48], values[48:])
    np.testing.assert_array_equal(fc.g_per_kwh[48:], values[48:])  # day 2 ahead: same day


def test_seasonal_learns_a_clean_daily_cycle() -> None:
    values = daily_wave(40, weekend=0.0)
    series = make_series(values)
    truth = daily_wave(42, weekend=0.0)[values.size :]
    fc = SeasonalForecaster().fit(series).predict(series.end_unix_s, 2 * DAY_S, STEP)
    assert np.max(np.abs(fc.g_per_kwh - truth)) < 1.0


def test_seasonal_weekly_profile_learns_weekend_levels() -> None:
    values = daily_wave(40)  # day 40 is a weekend day, 20 g/kWh lower
    series = make_series(values)
    truth = daily_wave(42)[values.size :]
    weekly = SeasonalForecaster(weekly_weight=1.0).fit(series)
    fc = weekly.predict(series.end_unix_s, 2 * DAY_S, STEP)
    assert np.max(np.abs(fc.g_per_kwh - truth)) < 1.0
    daily_only = SeasonalForecaster(weekly_weight=0.0).fit(series)
    miss = daily_only.predict(series.end_unix_s, DAY_S, STEP).g_per_kwh - truth[:48]
    assert np.mean(miss) > 10.0  # without the weekly profile the weekend is missed


def test_seasonal_beats_both_baselines_on_a_noisy_weekly_cycle() -> None:
    series = make_series(daily_wave(90, noise=10.0, seed=3))

    def mae(f: object, h: int) -> float:
        rows = evaluate(f, series, (h,), start_unix_s=T0 + 40 * DAY_S)  # type: ignore[arg-type]
        return rows[0].mae_g_per_kwh

    assert mae(SeasonalForecaster(), 12) < 0.5 * mae(PersistenceForecaster("last"), 12)
    # Same time yesterday is wrong on Saturdays and Mondays; the weekly profile is not.
    assert mae(SeasonalForecaster(), 24) < mae(PersistenceForecaster("yesterday"), 24)


def test_evaluate_reports_exact_errors_for_a_known_case() -> None:
    # Constant 100 for 3 days, then 200: persistence-last at origins in the
    # constant part has 0 error until the jump and 100 g/kWh after it.
    values = np.concatenate([np.full(120, 100.0), np.full(72, 200.0)])  # jump at 2.5 days
    series = make_series(values)
    rows = evaluate(PersistenceForecaster("last"), series, (1, 24), origin_every_h=24,
                    start_unix_s=T0 + DAY_S, end_unix_s=T0 + 4 * DAY_S)
    by_h = {r.horizon_h: r for r in rows}
    # Origins at days 1, 2, 3 (the last one's 24th hour ends at the series end).
    # Only day 2's 24 h target ([2 d + 23 h, 3 d) = 200) differs from the last value.
    assert by_h[1].n_origins == 3
    assert by_h[1].mae_g_per_kwh == 0.0
    assert by_h[24].mae_g_per_kwh == pytest.approx(100.0 / 3)
    assert by_h[24].mape_pct == pytest.approx(50.0 / 3)  # (0 % + 50 % + 0 %) / 3
    assert by_h[24].to_dict()["forecaster"] == "persistence-last"


def test_predict_before_the_origin_is_refused() -> None:
    f = PersistenceForecaster("last").fit(make_series(daily_wave(2)))
    with pytest.raises(BadInput, match="before the end of the history"):
        f.predict(T0 + DAY_S, HOUR_S, STEP)


def test_short_history_is_refused_with_a_clear_message() -> None:
    with pytest.raises(BadInput, match="at least one day"):
        SeasonalForecaster().fit(make_series(np.full(10, 100.0)))


def test_seasonal_works_with_quarter_hour_data_and_a_gap() -> None:
    values = daily_wave(20, step=900.0)
    t = T0 + 900.0 * np.arange(values.size)
    keep = np.ones(values.size, dtype=bool)
    keep[500:510] = False  # a 2.5 h hole, held over by the step reading
    series = IntensitySeries(t_unix_s=t[keep], g_per_kwh=values[keep], zone="DE", source="test",
                             kind="trace", step_s=900.0)
    fc = SeasonalForecaster().fit(series).predict(series.end_unix_s, DAY_S, 3600.0)
    assert len(fc) == 24 and fc.step_s == 3600.0
    assert np.all(np.isfinite(fc.g_per_kwh)) and np.all(fc.g_per_kwh >= 0)


def test_noise_zero_is_identity_and_noise_is_reproducible() -> None:
    f = SeasonalForecaster().fit(make_series(daily_wave(30)))
    fc = f.predict(T0 + 30 * DAY_S, DAY_S, STEP)
    np.testing.assert_array_equal(with_noise(fc, 0.0).g_per_kwh, fc.g_per_kwh)
    a = with_noise(fc, 0.10, rng=1)
    b = with_noise(fc, 0.10, rng=1)
    np.testing.assert_array_equal(a.g_per_kwh, b.g_per_kwh)
    rel = a.g_per_kwh / fc.g_per_kwh - 1
    assert 0.03 < float(np.std(rel)) < 0.2
    assert any("noise" in n for n in a.notes)
    with pytest.raises(BadInput):
        with_noise(fc, -0.1)


def test_noise_spread_scales_with_sigma() -> None:
    fc = make_series(np.full(20_000, 200.0))
    s5 = np.std(with_noise(fc, 0.05, rng=0).g_per_kwh / 200 - 1)
    s10 = np.std(with_noise(fc, 0.10, rng=0).g_per_kwh / 200 - 1)
    assert s5 == pytest.approx(0.05, rel=0.05)
    assert s10 == pytest.approx(0.10, rel=0.05)


def test_evaluate_on_a_shipped_trace_runs_and_persistence_is_best_at_one_hour() -> None:
    from wattwise.carbon.traces import TraceSource

    series = TraceSource.for_zone("FR").full_series
    start = T0 + 30 * DAY_S
    rows = {
        f.name: {r.horizon_h: r for r in evaluate(f, series, (1, 24), origin_every_h=48,
                                                  start_unix_s=start,
                                                  end_unix_s=start + 60 * DAY_S)}
        for f in (PersistenceForecaster("last"), PersistenceForecaster("yesterday"))
    }
    last, yesterday = rows["persistence-last"][1], rows["persistence-yesterday"][1]
    assert last.mae_g_per_kwh < yesterday.mae_g_per_kwh
    assert rows["persistence-last"][1].n_origins == 30
