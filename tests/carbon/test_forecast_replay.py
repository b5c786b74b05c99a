"""Replayed forecasts: kept by origin, error scenarios that never peek, noise, quantiles."""

from __future__ import annotations

import numpy as np
import pytest

from wattwise.carbon.forecast import DAY_S, HOUR_S, SeasonalForecaster, forecast_at
from wattwise.carbon.forecast_replay import ForecastReplay, Noise, window_means
from wattwise.carbon.sources import IntensitySeries
from wattwise.errors import BadInput

STEP = 1800.0
T0 = 1_577_836_800.0


def make_series(values: np.ndarray) -> IntensitySeries:
    return IntensitySeries(T0 + STEP * np.arange(values.size), values, "FR", "test", "trace",
                           STEP)


def noisy_wave(days: int, seed: int = 0) -> np.ndarray:
    t = np.arange(int(days * DAY_S / STEP)) * STEP
    rng = np.random.default_rng(seed)
    return 300 + 80 * np.sin(2 * np.pi * t / DAY_S) + rng.normal(0, 10, t.size)


def test_a_replayed_forecast_is_the_forecasters_own() -> None:
    series = make_series(noisy_wave(30))
    rep = ForecastReplay(SeasonalForecaster(), series)
    o = T0 + 20 * DAY_S + 3 * HOUR_S
    want = forecast_at(SeasonalForecaster(), series, o, 10 * STEP, error=False).g_per_kwh
    np.testing.assert_array_equal(rep.forecast(o, 10), want)
    assert rep.forecast(o, 5) is not None and rep.forecast(o, 5).size == 5


def test_error_scenarios_use_only_values_that_ended_by_the_origin() -> None:
    values = noisy_wave(40)
    o = T0 + 35 * DAY_S + 5 * HOUR_S
    before = ForecastReplay(SeasonalForecaster(), make_series(values.copy())).scenarios(o, 48)
    tampered = values.copy()
    tampered[int((o - T0) / STEP):] = 2000.0
    after = ForecastReplay(SeasonalForecaster(), make_series(tampered)).scenarios(o, 48)
    np.testing.assert_array_equal(before, after)
    # One row per earlier day whose whole 24 h had ended by the origin: 1 to 28 days back.
    assert before.shape == (28, 48)
    rep = ForecastReplay(SeasonalForecaster(), make_series(values))
    first = o - DAY_S
    np.testing.assert_allclose(before[0], rep.forecast(first, 48) - rep.actual(first, 48))


def test_the_perfect_replay_has_no_error_and_noise_is_per_instant() -> None:
    series = make_series(noisy_wave(20))
    perfect = ForecastReplay(None, series)
    o = T0 + 15 * DAY_S
    np.testing.assert_array_equal(perfect.forecast(o, 12), perfect.actual(o, 12))
    assert not np.any(perfect.scenarios(o, 12))
    add = ForecastReplay(None, series, noise=Noise(10.0, "additive", seed=3))
    e1 = add.forecast(o, 12) - add.actual(o, 12)
    e2 = add.forecast(o + STEP, 11) - add.actual(o + STEP, 11)
    np.testing.assert_allclose(e1[1:], e2)  # the same instant carries the same noise
    big = ForecastReplay(None, series, noise=Noise(10.0, "additive", seed=3))
    spread = np.concatenate([big.forecast(T0 + d * DAY_S, 48) - big.actual(T0 + d * DAY_S, 48)
                             for d in range(2, 19)])
    # Additive noise is a share of the trace's mean (~300 g/kWh), as Let's Wait Awhile adds.
    assert np.std(spread) == pytest.approx(0.10 * np.mean(series.g_per_kwh), rel=0.15)
    with pytest.raises(BadInput, match="noise kind"):
        Noise(5.0, "wild")  # type: ignore[arg-type]


def test_quantile_forecasts_are_ordered_and_as_wide_as_past_errors() -> None:
    series = make_series(noisy_wave(40, seed=2))
    rep = ForecastReplay(SeasonalForecaster(), series)
    o = T0 + 35 * DAY_S
    q = rep.quantiles(o, 24, (0.1, 0.5, 0.9))
    assert q is not None and q.shape == (3, 24)
    assert np.all(q[0] <= q[1] + 1e-9) and np.all(q[1] <= q[2] + 1e-9)
    width = float(np.mean(q[2] - q[0]))
    assert 10.0 < width < 60.0  # noise of sd 10: a 10-90 % band of about 2.6 sd
    assert rep.quantiles(T0 + 1.5 * DAY_S, 24, (0.5,)) is None  # no past days yet


def test_window_means_are_exact_on_the_step_function() -> None:
    rows = np.array([[1.0, 2.0, 3.0, 4.0], [0.0, 0.0, 10.0, 0.0]])
    got = window_means(rows, 10.0, np.array([0.0, 5.0, 15.0]), 20.0)
    np.testing.assert_allclose(got[0], [1.5, 2.0, 3.0])
    np.testing.assert_allclose(got[1], [0.0, 2.5, 5.0])
