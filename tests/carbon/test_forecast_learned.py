"""Learned forecasters and their ensemble: no peeking, batch = one by one, what each learns."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from wattwise.carbon.forecast import (
    DAY_S,
    HOUR_S,
    Forecaster,
    PersistenceForecaster,
    SeasonalForecaster,
    evaluate,
    forecast_at,
    make_forecaster,
)
from wattwise.carbon.forecast_learned import (
    AnalogForecaster,
    EnsembleForecaster,
    LinearForecaster,
)
from wattwise.carbon.sources import IntensitySeries
from wattwise.errors import BadInput

STEP = 1800.0
T0 = 1_577_836_800.0  # 2020-01-01T00:00Z


def make_series(values: np.ndarray, step: float = STEP) -> IntensitySeries:
    return IntensitySeries(T0 + step * np.arange(values.size), values, "DE", "test", "trace",
                           step)


def wave(days: int, *, ar: float = 0.0, noise: float = 0.0, seed: int = 0) -> np.ndarray:
    """A daily cycle plus an AR(1) departure (``ar`` its step-to-step persistence)."""
    n = int(days * DAY_S / STEP)
    rng = np.random.default_rng(seed)
    dep = np.zeros(n)
    shocks = rng.normal(0.0, noise, n)
    for i in range(1, n):
        dep[i] = ar * dep[i - 1] + shocks[i]
    t = np.arange(n) * STEP
    return 300 + 80 * np.sin(2 * np.pi * t / DAY_S) + dep


def _gbt() -> Forecaster:
    pytest.importorskip("sklearn")
    from wattwise.carbon.forecast_gbt import GradientBoostedForecaster

    return GradientBoostedForecaster(train_days=14, n_rows=2000, max_iter=20)


LEARNED: list[Callable[[], Forecaster]] = [
    lambda: LinearForecaster(train_days=14),
    lambda: AnalogForecaster(days=20),
    lambda: EnsembleForecaster([SeasonalForecaster(), LinearForecaster(train_days=14)],
                               select_days=7),
    _gbt,
]


@pytest.mark.parametrize("make", LEARNED)
def test_changing_data_after_the_origin_does_not_change_a_learned_forecast(
        make: Callable[[], Forecaster]) -> None:
    values = wave(60, ar=0.95, noise=4.0)
    origin = T0 + 50 * DAY_S + 7 * HOUR_S  # mid-day: the model was trained at midnight
    f = make()
    before = f.forecast_many(make_series(values.copy()), np.array([origin]), 96)[0]
    tampered = values.copy()
    k = int((origin - T0) / STEP)
    tampered[k:] = np.random.default_rng(9).uniform(0, 2000, tampered.size - k)
    # The same object, already holding models: a model is reused only for the same data.
    after = f.forecast_many(make_series(tampered.copy()), np.array([origin]), 96)[0]
    np.testing.assert_array_equal(before, after)
    fresh = make().forecast_many(make_series(tampered.copy()), np.array([origin]), 96)[0]
    np.testing.assert_array_equal(before, fresh)
    # ...while changing data before the origin does (here both the last value and one
    # before the last retrain, which a trained model must notice rather than reuse).
    tampered[k - 30] += 400.0
    tampered[k - 1] += 50.0
    moved = f.forecast_many(make_series(tampered), np.array([origin]), 96)[0]
    assert not np.array_equal(before, moved)


@pytest.mark.parametrize("make", LEARNED)
def test_many_origins_at_once_equal_one_forecast_at_a_time(
        make: Callable[[], Forecaster]) -> None:
    series = make_series(wave(40, ar=0.9, noise=5.0, seed=2))
    origins = T0 + DAY_S * np.array([30.0, 30.25, 31.5, 35.0, 38.75])
    batch = make().forecast_many(series, origins, 60)
    one = make()
    rows = [forecast_at(one, series, o, 60 * STEP, error=False).g_per_kwh for o in origins]
    np.testing.assert_allclose(batch, np.array(rows), rtol=0, atol=1e-9)


def test_the_linear_model_learns_how_long_a_departure_lasts() -> None:
    # A daily cycle plus a slowly fading departure: the last value's departure from the
    # cycle carries on for hours, which the linear model learns and the plain daily
    # profile (persistence-yesterday) cannot know.
    series = make_series(wave(80, ar=0.97, noise=6.0, seed=5))

    def mae(f: Forecaster) -> float:
        rows = evaluate(f, series, (2,), start_unix_s=T0 + 60 * DAY_S, origin_every_h=5)
        return rows[0].mae_g_per_kwh

    assert mae(LinearForecaster(train_days=28)) < 0.7 * mae(PersistenceForecaster("yesterday"))


def test_the_analog_forecaster_continues_a_repeated_pattern() -> None:
    # Two shapes of day alternate by a rule the recent hours reveal: a day that starts
    # high is followed by a dip at noon, one that starts low by a bump.
    rng = np.random.default_rng(1)
    days = []
    for _ in range(40):
        high = rng.random() < 0.5
        t = np.arange(48) * STEP / HOUR_S
        base = np.where(t < 6, 400.0 if high else 200.0, 300.0)
        bump = (-100.0 if high else 100.0) * np.exp(-((t - 12) ** 2) / 4)
        days.append(base + bump)
    series = make_series(np.concatenate(days))
    origin = T0 + 39 * DAY_S + 7 * HOUR_S  # the last day's shape is known from its morning
    fc = forecast_at(AnalogForecaster(days=30, k=5, window_h=6), series, origin, 8 * HOUR_S,
                     error=False).g_per_kwh
    truth = series.g_per_kwh[int((origin - T0) / STEP):][:16]
    assert np.max(np.abs(fc - truth)) < 5.0


def test_the_ensemble_drops_a_member_far_behind_the_best() -> None:
    series = make_series(wave(40, ar=0.5, noise=2.0, seed=3))
    ens = EnsembleForecaster([SeasonalForecaster(), PersistenceForecaster("last")],
                             select_days=14)
    ens.forecast_many(series, np.array([T0 + 35 * DAY_S]), 48)
    w = ens.weights
    # The last value holds the level but not the day's shape: its shape error is huge.
    assert w["seasonal"] == 1.0 and w["persistence-last"] == 0.0
    equal = EnsembleForecaster([SeasonalForecaster(), PersistenceForecaster("last")],
                               select_days=14, drop_above=1e9)
    equal.forecast_many(series, np.array([T0 + 35 * DAY_S]), 48)
    assert 0.0 < equal.weights["persistence-last"] < 0.5 < equal.weights["seasonal"]


def test_an_ensemble_with_too_few_replays_weighs_its_members_equally() -> None:
    series = make_series(wave(4))
    ens = EnsembleForecaster([SeasonalForecaster(), PersistenceForecaster("yesterday")])
    ens.forecast_many(series, np.array([T0 + 1.5 * DAY_S]), 10)
    assert ens.weights == {"seasonal": 0.5, "persistence-yesterday": 0.5}


def test_every_named_forecaster_can_be_made_and_bad_settings_are_refused() -> None:
    from wattwise.carbon.forecast import FORECASTER_NAMES

    for name in FORECASTER_NAMES:
        if name == "gbt":
            pytest.importorskip("sklearn")
        assert make_forecaster(name).name.startswith(name)
    with pytest.raises(BadInput, match="unknown forecaster"):
        make_forecaster("oracle")
    with pytest.raises(BadInput, match="linear forecaster needs"):
        LinearForecaster(train_days=1)
    with pytest.raises(BadInput, match="analog forecaster needs"):
        AnalogForecaster(k=0)
    with pytest.raises(BadInput, match="an ensemble needs at least one member"):
        EnsembleForecaster([])


def test_gbt_quantiles_bracket_its_median_and_retraining_is_at_most_daily() -> None:
    pytest.importorskip("sklearn")
    from wattwise.carbon.forecast_gbt import GradientBoostedForecaster

    with pytest.raises(BadInput, match="at most daily"):
        GradientBoostedForecaster(retrain_days=0)
    f = GradientBoostedForecaster(train_days=14, n_rows=3000, max_iter=30,
                                  quantiles=(0.1, 0.9))
    series = make_series(wave(40, ar=0.9, noise=8.0, seed=4))
    origin = T0 + 35 * DAY_S
    q = f.quantile_forecast(series, origin, 48)
    mid = f.forecast_many(series, np.array([origin]), 48)[0]
    assert q.shape == (2, 48)
    assert np.mean(q[0] <= mid) > 0.9 and np.mean(mid <= q[1]) > 0.9
    assert np.mean(q[1] - q[0]) > 1.0
