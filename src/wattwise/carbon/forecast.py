"""Carbon-intensity forecasts from a zone's own history, and how good they are.

A :class:`Forecaster` is fitted on a series that ends at the forecast origin
and predicts from there; it never sees a value after the origin (``evaluate``
cuts the history at each origin before fitting, and the tests pin that
changing later data changes nothing). The statistical ones (``forecast_seasonal``):

- ``PersistenceForecaster("last")``: the last value holds (best at 1 h).
- ``PersistenceForecaster("yesterday")``: the same time on the last observed
  day (the classic daily-seasonal naive baseline).
- ``SeasonalForecaster``: a recent level plus a time-of-day profile
  (exponentially weighted over the last two weeks) blended with a
  time-of-week profile (the last four weeks), plus the current departure
  from that baseline carried forward by how much such departures persisted
  at each lead in the training window. All numpy, well under a millisecond
  per fit.

Learned ones live in ``forecast_learned`` (a direct multi-horizon linear model,
analogues, and the backtest-weighted ensemble that picks per zone) and
``forecast_gbt`` (gradient-boosted trees, with scikit-learn); every one is made
by name with ``make_forecaster``. ``Forecaster.forecast_many`` gives the
forecasts from many origins at once, each cut exactly as ``forecast_at`` cuts.

``evaluate`` replays a series with origins every few hours and reports MAE
(g/kWh) and MAPE (%) of the hourly mean intensity ``h`` hours ahead.
``with_noise`` perturbs a forecast (×(1 + N(0, σ))) so a scheduler can be
simulated with imperfect forecasts.

A forecast made by ``forecast_at`` carries its own error estimate
(:class:`ForecastError`, on :class:`Forecast`): the same forecaster replayed at
the same horizon over the last days of history before the origin, each replay
fitted only on data before its own origin and scored only on data that had
ended by the forecast's origin (:class:`Backtest`); and its error scenarios,
the errors it made from the same time of day on each of the previous days
(``forecast_replay``), from which the planner gets the probability that a move
saves carbon.

This module is the front: ``forecast_at``, ``make_forecaster`` and ``with_noise``
live here, and the names of ``forecast_base`` (the interface and the cut),
``forecast_seasonal`` and ``forecast_error`` (``Backtest``, ``evaluate``) are
named here too, so ``from wattwise.carbon.forecast import ...`` reaches them all.
"""

from __future__ import annotations

import math

import numpy as np

from wattwise.carbon.forecast_base import (
    DAY_S,
    HOUR_S,
    WEEK_S,
    Forecaster,
    forecast_from,
    history_bounds,
    history_grid,
    regular_grid,
)
from wattwise.carbon.forecast_error import (
    BACKTEST_DAYS,
    BACKTEST_EVERY_H,
    MIN_BACKTEST_ORIGINS,
    Backtest,
    Forecast,
    ForecastError,
    HorizonError,
    evaluate,
)
from wattwise.carbon.forecast_replay import SCENARIO_DAYS, ForecastReplay
from wattwise.carbon.forecast_seasonal import PersistenceForecaster, SeasonalForecaster
from wattwise.carbon.sources import IntensitySeries
from wattwise.errors import BadInput

__all__ = [
    "BACKTEST_DAYS", "BACKTEST_EVERY_H", "DAY_S", "FORECASTER_NAMES", "HOUR_S",
    "MIN_BACKTEST_ORIGINS", "WEEK_S", "Backtest", "Forecast", "ForecastError", "Forecaster",
    "HorizonError", "PersistenceForecaster", "SeasonalForecaster", "evaluate", "forecast_at",
    "forecast_from", "history_bounds", "history_grid", "make_forecaster", "regular_grid",
    "with_noise",
]

#: Every forecaster the CLI and the simulator know by name.
FORECASTER_NAMES = ("ensemble", "seasonal", "linear", "analog", "gbt", "persistence-yesterday",
                    "persistence-last")


def make_forecaster(name: str) -> Forecaster:
    """A fresh forecaster called ``name`` (see ``FORECASTER_NAMES``)."""
    if name == "seasonal":
        return SeasonalForecaster()
    if name == "persistence-yesterday":
        return PersistenceForecaster("yesterday")
    if name == "persistence-last":
        return PersistenceForecaster("last")
    if name == "gbt":
        from wattwise.carbon.forecast_gbt import GradientBoostedForecaster

        return GradientBoostedForecaster()
    if name in ("linear", "analog", "ensemble"):
        from wattwise.carbon.forecast_learned import REGISTRY

        return REGISTRY[name]()
    raise BadInput(f"unknown forecaster {name!r:.60}; choose one of {', '.join(FORECASTER_NAMES)}")


def _as_forecast(fc: IntensitySeries, error: ForecastError | None,
                 note: str | None = None, scenarios: np.ndarray | None = None) -> Forecast:
    return Forecast(t_unix_s=fc.t_unix_s, g_per_kwh=fc.g_per_kwh, zone=fc.zone,
                    source=fc.source, kind=fc.kind, step_s=fc.step_s,
                    interpolation=fc.interpolation,
                    notes=fc.notes if note is None else (*fc.notes, note), error=error,
                    scenarios=scenarios)


def forecast_at(forecaster: Forecaster, series: IntensitySeries, origin_unix_s: float,
                horizon_s: float, *, error: bool | Backtest = True,
                scenario_days: int | None = None) -> Forecast:
    """Fit on ``series`` strictly before ``origin`` and forecast from the origin.

    Only samples whose period ends by the origin (``t + step <= origin``) are
    passed to ``fit``, and at most ``forecaster.history_s`` of them: a period
    average is not known before its period is over, so no value at or after
    the origin can reach the forecast.

    With ``error`` (the default) the forecast carries its own error estimate: the
    same forecaster replayed at the same horizon on ``series`` before the origin
    (a :class:`Backtest`; pass one to share its replays across many forecasts
    from one series, or False for none), and its error scenarios: the errors the
    same forecaster made from the same time of day on each of the
    ``scenario_days`` days before (``forecast_replay.ForecastReplay.scenarios``).
    Neither reads anything after the origin.
    """
    est: ForecastError | None = None
    note: str | None = None
    if error is not False:
        bt = error if isinstance(error, Backtest) else Backtest(forecaster, series)
        if bt.series is not series:
            raise BadInput("the backtest given to forecast_at replays another series")
        est = bt.error(origin_unix_s, horizon_s)
        note = (f"forecast error: {est.describe()}" if est is not None else
                f"no error estimate: fewer than {MIN_BACKTEST_ORIGINS} backtest origins "
                f"fit in the history before {origin_unix_s:.0f} (Unix s)")
    fc = forecast_from(forecaster, series, origin_unix_s, horizon_s)
    scen = None
    if error is not False:
        days = SCENARIO_DAYS if scenario_days is None else scenario_days
        scen = ForecastReplay(forecaster, series).scenarios(origin_unix_s, len(fc), days)
        scen.setflags(write=False)
    return _as_forecast(fc, est, note, scen)


def with_noise(forecast: IntensitySeries, sigma: float,
               rng: np.random.Generator | int | None = None) -> IntensitySeries:
    """The forecast times ``1 + N(0, σ)`` per value (clipped at 0), for simulations.

    ``sigma`` is relative (0.05 for 5 %); ``sigma = 0`` returns the same values.
    The series' notes say the noise was added, so it is never mistaken for the
    forecaster's own output.
    """
    if not (sigma >= 0 and math.isfinite(sigma)):
        raise BadInput(f"noise sigma must be a finite number >= 0, got {sigma}")
    gen = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
    factor = 1.0 + gen.normal(0.0, sigma, size=len(forecast)) if sigma > 0 else 1.0
    values = np.maximum(forecast.g_per_kwh * factor, 0.0)
    return IntensitySeries(
        t_unix_s=forecast.t_unix_s,
        g_per_kwh=values,
        zone=forecast.zone,
        source=forecast.source,
        kind=forecast.kind,
        step_s=forecast.step_s,
        interpolation=forecast.interpolation,
        notes=(*forecast.notes, f"multiplicative noise N(0, {sigma:g}) added for simulation"),
    )
