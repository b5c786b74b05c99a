"""How good a forecast is: its own backtested error at an origin, and evaluation over a trace.

``Backtest`` replays a forecaster at the same horizon over the last days of
history before a forecast's origin, each replay fitted only on data before its
own origin and scored only on data that had ended by the forecast's origin; it
gives the :class:`ForecastError` a :class:`Forecast` carries (``forecast_at``
attaches both). ``evaluate`` replays a series with origins every few hours and
reports MAE (g/kWh) and MAPE (%) of the hourly mean intensity ``h`` hours ahead
(:class:`HorizonError`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from wattwise.carbon.forecast_base import DAY_S, HOUR_S, Forecaster, forecast_from
from wattwise.carbon.sources import IntensitySeries
from wattwise.errors import BadInput

#: Days before a forecast's origin on which its own error is measured.
BACKTEST_DAYS = 7.0

#: Hours between backtest origins (a fixed UTC grid, so replays of many decisions share them).
BACKTEST_EVERY_H = 6.0

#: Fewest backtest origins that make an error estimate; with fewer, a forecast has none.
MIN_BACKTEST_ORIGINS = 4


@dataclass(frozen=True)
class HorizonError:
    """Error of one forecaster at one horizon over all origins."""

    forecaster: str
    zone: str
    horizon_h: int
    mae_g_per_kwh: float
    mape_pct: float
    n_origins: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "forecaster": self.forecaster,
            "zone": self.zone,
            "horizon_h": self.horizon_h,
            "mae_g_per_kwh": self.mae_g_per_kwh,
            "mape_pct": self.mape_pct,
            "n_origins": self.n_origins,
        }


@dataclass(frozen=True)
class ForecastError:
    """How wrong a forecaster was at a horizon, replayed on the history before an origin.

    At each backtest origin (every ``every_h`` hours on a UTC grid, over the
    ``days`` days before the forecast's origin) the forecaster is fitted on data
    before that origin alone and scored, hour by hour (hourly means where the
    step divides an hour), on what followed up to ``horizon_h`` hours ahead;
    every value scored had ended by the forecast's own origin. ``mae_g_per_kwh``
    and ``mape_pct`` are errors of the level; ``difference_mae_g_per_kwh`` is the
    mean absolute error of the forecast's difference between two hours of the
    horizon (over every pair): what moving a job from one time to another rests
    on, so the planner's tie rule weighs a forecast saving against it.
    """

    forecaster: str
    horizon_h: float
    days: float
    n_origins: int
    mae_g_per_kwh: float
    mape_pct: float | None
    difference_mae_g_per_kwh: float

    def describe(self) -> str:
        mape = "" if self.mape_pct is None else f" ({self.mape_pct:.1f} %)"
        return (f"backtest of {self.forecaster} over the {self.days:g} days before the "
                f"forecast, {self.n_origins} origins, up to {self.horizon_h:g} h ahead: "
                f"{self.difference_mae_g_per_kwh:.3g} gCO2eq/kWh mean error of a difference "
                f"between two hours, level MAE {self.mae_g_per_kwh:.3g} gCO2eq/kWh{mape}")

    def to_dict(self) -> dict[str, Any]:
        return {
            "forecaster": self.forecaster,
            "horizon_h": self.horizon_h,
            "days": self.days,
            "n_origins": self.n_origins,
            "mae_g_per_kwh": self.mae_g_per_kwh,
            "mape_pct": self.mape_pct,
            "difference_mae_g_per_kwh": self.difference_mae_g_per_kwh,
        }


@dataclass(frozen=True, eq=False)
class Forecast(IntensitySeries):
    """A forecast series with its own error estimate, where one could be measured.

    ``scenarios`` holds, one row per earlier day, the error (forecast minus actual)
    the same forecaster made from the same time of day, step by step: the planner
    prices a move under each to get the probability that it saves carbon.
    """

    error: ForecastError | None = None
    scenarios: np.ndarray | None = None

    @property
    def error_g_per_kwh(self) -> float | None:
        """What the tie rule weighs a move against (``difference_mae_g_per_kwh``)."""
        return None if self.error is None else self.error.difference_mae_g_per_kwh

    @property
    def error_basis(self) -> str:
        """Where ``error_g_per_kwh`` comes from, in words."""
        return "no error estimate" if self.error is None else self.error.describe()


class Backtest:
    """A forecaster's own error at a horizon, replayed on one series without peeking.

    ``error(origin, horizon_s)`` replays the forecaster at origins every
    ``every_h`` hours (on a fixed UTC grid) over the ``days`` days before
    ``origin``, each fitted on data before its own origin (``forecast_at``) and
    scored only on values whose period had ended by ``origin``. Forecasts at
    each backtest origin are kept, so the many decisions of one replay (and
    replays of other scenarios on the same series) share them. ``noise_sigma``
    adds the same kind of noise ``with_noise`` does to each replayed forecast
    (seeded by ``seed`` and the replay's origin), so a noisy forecast is scored
    as what it is.
    """

    def __init__(self, forecaster: Forecaster, series: IntensitySeries, *,
                 days: float = BACKTEST_DAYS, every_h: float = BACKTEST_EVERY_H) -> None:
        import copy

        if not (math.isfinite(days) and days > 0 and math.isfinite(every_h) and every_h > 0):
            raise BadInput(f"a backtest needs days > 0 and every_h > 0, got {days}, {every_h}")
        self.forecaster = copy.deepcopy(forecaster)  # refitted here, never the caller's
        self.series = series
        self.days, self.every_h = float(days), float(every_h)
        self._memo: dict[float, np.ndarray] = {}

    def origins(self, origin_unix_s: float, horizon_s: float) -> np.ndarray:
        """Backtest origins for a forecast ``horizon_s`` ahead from ``origin``: each one's
        scored span ends by ``origin``, and each has a day of history before it."""
        step = self.series.step_s
        span = step * _steps(horizon_s, step)
        every = self.every_h * HOUR_S
        last = math.floor((origin_unix_s - span) / every + 1e-9) * every
        first = max(origin_unix_s - span - self.days * DAY_S, self.series.start_unix_s + DAY_S)
        n = math.floor((last - first) / every + 1e-9) + 1
        return last - every * np.arange(max(n, 0))[::-1]

    def error(self, origin_unix_s: float, horizon_s: float, *, noise_sigma: float = 0.0,
              seed: int = 0) -> ForecastError | None:
        """The error estimate, or None when under ``MIN_BACKTEST_ORIGINS`` replays fit."""
        if not (math.isfinite(horizon_s) and horizon_s > 0):
            raise BadInput(f"horizon_s must be > 0, got {horizon_s}")
        if not (math.isfinite(noise_sigma) and noise_sigma >= 0):
            raise BadInput(f"noise sigma must be a finite number >= 0, got {noise_sigma}")
        if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
            raise BadInput(f"a backtest's seed must be a whole number >= 0, got {seed!r:.40}")
        step = self.series.step_s
        n = _steps(horizon_s, step)
        origins = self.origins(origin_unix_s, horizon_s)
        if origins.size < MIN_BACKTEST_ORIGINS:
            return None
        t_series = self.series.t_unix_s
        mae: list[float] = []
        mape: list[float] = []
        diff: list[float] = []
        for o in origins.tolist():
            try:
                pred = self._predicted(o, n)
            except BadInput:  # too little history before this origin (a gap): skip it
                continue
            if noise_sigma > 0:
                gen = np.random.default_rng([seed, round(o) & (2**63 - 1)])
                pred = np.maximum(pred * (1.0 + gen.normal(0.0, noise_sigma, size=n)), 0.0)
            t = o + step * np.arange(n)  # each period ends by the origin (see ``origins``)
            idx = np.clip(np.searchsorted(t_series, t, side="right") - 1, 0, len(self.series) - 1)
            actual = self.series.g_per_kwh[idx]
            pred, actual = _by_hour(pred, step), _by_hour(actual, step)
            e = pred - actual
            mae.append(float(np.mean(np.abs(e))))
            pos = actual > 0
            if np.any(pos):
                mape.append(float(np.mean(np.abs(e[pos]) / actual[pos])) * 100.0)
            diff.append(_pair_mean_abs_difference(e))
        if len(mae) < MIN_BACKTEST_ORIGINS:
            return None
        name = self.forecaster.name + (f" with noise N(0, {noise_sigma:g})"
                                       if noise_sigma > 0 else "")
        return ForecastError(name, n * step / HOUR_S, self.days, len(mae),
                             float(np.mean(mae)), float(np.mean(mape)) if mape else None,
                             float(np.mean(diff)))

    def _predicted(self, o: float, n: int) -> np.ndarray:
        """The forecast from backtest origin ``o``, ``n`` steps long (kept for reuse: a
        forecaster's value at a lead does not depend on how far it is asked to look)."""
        kept = self._memo.get(o)
        if kept is None or kept.size < n:
            fc = forecast_from(self.forecaster, self.series, o, n * self.series.step_s)
            kept = np.asarray(fc.g_per_kwh[:n], dtype=np.float64)
            self._memo[o] = kept
        return kept[:n]


def _steps(horizon_s: float, step_s: float) -> int:
    return max(1, math.ceil(horizon_s / step_s - 1e-9))


def _by_hour(x: np.ndarray, step_s: float) -> np.ndarray:
    """Hourly means where the step divides an hour and a whole hour fits, else ``x``."""
    if HOUR_S % step_s or x.size * step_s < HOUR_S:
        return x
    per = int(HOUR_S // step_s)
    hours = x.size // per
    return x[: hours * per].reshape(hours, per).mean(axis=1)


def _pair_mean_abs_difference(e: np.ndarray) -> float:
    """Mean of ``|e_i - e_j|`` over all pairs ``i < j`` (0 with under two values)."""
    m = e.size
    if m < 2:
        return 0.0
    s = np.sort(e)
    return float(2.0 * np.sum((2 * np.arange(m) - m + 1) * s) / (m * (m - 1)))


def _hourly_means(series: IntensitySeries) -> tuple[float, np.ndarray]:
    """``(t0, means)``: the step-read series averaged over each whole UTC hour from t0.

    Exact for the step reading when the series' step divides an hour and its
    samples sit on that grid (as ENTSO-E and NESO publish).
    """
    step = series.step_s
    if HOUR_S % step:
        raise BadInput(f"evaluation needs a step that divides one hour, got {step:g} s")
    t0 = math.ceil(series.start_unix_s / HOUR_S) * HOUR_S
    hours = int((series.end_unix_s - t0) // HOUR_S)
    per_hour = int(HOUR_S // step)
    t = t0 + step * np.arange(hours * per_hour)
    idx = np.clip(np.searchsorted(series.t_unix_s, t, side="right") - 1, 0, len(series) - 1)
    return t0, series.g_per_kwh[idx].reshape(hours, per_hour).mean(axis=1)


def evaluate(
    forecaster: Forecaster,
    series: IntensitySeries,
    horizons_h: Sequence[int] = (1, 8, 24, 48),
    *,
    origin_every_h: float = 6.0,
    start_unix_s: float | None = None,
    end_unix_s: float | None = None,
) -> list[HorizonError]:
    """MAE and MAPE of the hourly mean intensity ``h`` hours after each origin.

    Origins run every ``origin_every_h`` hours from ``start`` (default: one day
    into the series, the least any forecaster needs) while the longest horizon
    still fits before ``end`` (default: the series end). For horizon ``h`` the
    target is the mean actual intensity over ``[origin + (h-1) h, origin + h h)``
    and the forecast is the forecast's mean over the same hour.
    """
    hs = sorted({int(h) for h in horizons_h})
    if not hs or hs[0] < 1:
        raise BadInput(f"horizons must be whole hours >= 1, got {list(horizons_h)}")
    if origin_every_h <= 0:
        raise BadInput(f"origin_every_h must be > 0, got {origin_every_h}")
    max_h = hs[-1]
    first = series.start_unix_s + DAY_S if start_unix_s is None else start_unix_s
    last = (series.end_unix_s if end_unix_s is None else end_unix_s) - max_h * HOUR_S
    first = max(first, series.start_unix_s + DAY_S)
    first = math.ceil(first / HOUR_S) * HOUR_S
    every = origin_every_h * HOUR_S
    origins = first + every * np.arange(max(0, math.floor((last - first) / every) + 1))
    if origins.size == 0:
        raise BadInput("the series is too short for these horizons (needs one day + the horizon)")
    t0, actual_hourly = _hourly_means(series)
    per_hour = int(HOUR_S // series.step_s)
    abs_err = np.empty((origins.size, len(hs)))
    rel_err = np.empty((origins.size, len(hs)))
    idx = np.array(hs) - 1
    rows = forecaster.forecast_many(series, origins, max_h * per_hour)  # = forecast_at's
    for i, origin in enumerate(origins):
        pred = rows[i].reshape(max_h, per_hour).mean(axis=1)[idx]
        k = round((origin - t0) / HOUR_S)
        actual = actual_hourly[k : k + max_h][idx]
        abs_err[i] = np.abs(pred - actual)
        with np.errstate(divide="ignore", invalid="ignore"):
            rel_err[i] = np.where(actual > 0, abs_err[i] / actual, np.nan)
    return [
        HorizonError(
            forecaster=forecaster.name,
            zone=series.zone,
            horizon_h=h,
            mae_g_per_kwh=float(abs_err[:, j].mean()),
            mape_pct=float(np.nanmean(rel_err[:, j]) * 100.0),
            n_origins=int(origins.size),
        )
        for j, h in enumerate(hs)
    ]
