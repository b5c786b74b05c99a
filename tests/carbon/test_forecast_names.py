"""``wattwise.carbon.forecast`` still gives every name it gave, as the same objects, now
that the interface, the statistical forecasters and the error estimates live in modules
of their own."""

from __future__ import annotations

import numpy as np

from wattwise.carbon import forecast, forecast_base, forecast_error, forecast_seasonal
from wattwise.carbon.sources import IntensitySeries

MOVED = {
    forecast_base: ["DAY_S", "HOUR_S", "WEEK_S", "Forecaster", "regular_grid",
                    "history_bounds", "history_grid"],
    forecast_seasonal: ["PersistenceForecaster", "SeasonalForecaster"],
    forecast_error: ["BACKTEST_DAYS", "BACKTEST_EVERY_H", "MIN_BACKTEST_ORIGINS", "Backtest",
                     "Forecast", "ForecastError", "HorizonError", "evaluate"],
}


def test_forecast_names_what_moved_as_the_same_objects() -> None:
    wrong = [f"{mod.__name__}.{name}" for mod, names in MOVED.items() for name in names
             if getattr(forecast, name, None) is not getattr(mod, name)]
    assert not wrong, wrong


def test_forecast_at_without_error_is_forecast_from() -> None:
    step = 3600.0
    t = 1_577_836_800.0 + step * np.arange(24 * 10)
    x = 200.0 + 50.0 * np.sin(2 * np.pi * np.arange(t.size) / 24)
    s = IntensitySeries(t, x, "XX", "test", "trace", step)
    origin = float(t[24 * 8])
    a = forecast.forecast_at(forecast.SeasonalForecaster(), s, origin, 86400.0, error=False)
    b = forecast_base.forecast_from(forecast.SeasonalForecaster(), s, origin, 86400.0)
    assert np.array_equal(a.g_per_kwh, b.g_per_kwh)
    assert a.error is None and a.scenarios is None
