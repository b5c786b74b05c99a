"""Carbon-intensity forecasts from a zone's own history, and how good they are.

A :class:`Forecaster` is fitted on a series that ends at the forecast origin
and predicts from there; it never sees a value after the origin (``evaluate``
cuts the history at each origin before fitting, and the tests pin that
changing later data changes nothing). Here, the statistical ones:

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
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from wattwise.carbon.sources import IntensitySeries
from wattwise.errors import BadInput

DAY_S = 86400.0
WEEK_S = 7 * DAY_S
HOUR_S = 3600.0
#: Days before a forecast's origin on which its own error is measured.
BACKTEST_DAYS = 7.0
#: Hours between backtest origins (a fixed UTC grid, so replays of many decisions share them).
BACKTEST_EVERY_H = 6.0
#: Fewest backtest origins that make an error estimate; with fewer, a forecast has none.
MIN_BACKTEST_ORIGINS = 4


def regular_grid(history: IntensitySeries) -> tuple[float, float, np.ndarray]:
    """The history on a regular grid at its own step, ending at its end.

    Returns ``(origin_unix_s, step_s, values)`` where ``values[-1]`` is the
    sample that ends at the origin. Gaps are filled by holding the previous
    value (the series' step reading), which the series' notes already name.
    """
    step = float(history.step_s)
    if DAY_S % step:
        raise BadInput(f"forecasting needs a step that divides one day, got {step:g} s")
    origin = history.end_unix_s
    n = round((origin - history.start_unix_s) / step)
    t = origin - step * np.arange(n, 0, -1)
    idx = np.clip(np.searchsorted(history.t_unix_s, t, side="right") - 1, 0, len(history) - 1)
    return origin, step, np.asarray(history.g_per_kwh, dtype=np.float64)[idx]


def history_bounds(series: IntensitySeries, origins: np.ndarray,
                   history_s: float) -> list[tuple[int, int]]:
    """Sample ranges ``[a, b)`` a forecast from each origin may see: periods that ended
    by the origin (``t + step <= origin``), at most ``history_s`` back (``forecast_at``'s
    cut). Raises BadInput where an origin has under two samples before it."""
    t, step = series.t_unix_s, series.step_s
    lo = np.searchsorted(t, origins - history_s, side="left")
    hi = np.searchsorted(t, origins - step, side="right")
    bad = np.flatnonzero(hi - lo < 2)
    if bad.size:
        raise BadInput(f"no history before origin {origins[bad[0]]:.0f} in {series.source}")
    return list(zip(lo.tolist(), hi.tolist(), strict=True))


def history_grid(series: IntensitySeries, a: int, b: int,
                 origin_unix_s: float) -> tuple[float, np.ndarray]:
    """``(fit_origin, x)``: samples ``[a, b)`` on a regular grid ending at the end of
    sample ``b - 1``, exactly as ``regular_grid`` reads that history as a series."""
    t, step = series.t_unix_s, float(series.step_s)
    end = float(t[b - 1]) + step
    n = round((end - float(t[a])) / step)
    tt = end - step * np.arange(n, 0, -1)
    idx = np.clip(np.searchsorted(t[a:b], tt, side="right") - 1, 0, b - a - 1)
    return end, np.asarray(series.g_per_kwh[a:b], dtype=np.float64)[idx]


class Forecaster(ABC):
    """Fit on history that ends at the origin, then predict from the origin on."""

    #: Short name used in tables and in the forecast's ``source``.
    name: str = "forecaster"
    #: How much history before the origin ``fit`` uses; ``evaluate`` passes this much.
    history_s: float = 2 * DAY_S

    def __init__(self) -> None:
        self._origin: float | None = None
        self._step = 0.0
        self._zone = ""
        self._source = ""

    def fit(self, history: IntensitySeries) -> Forecaster:
        """Learn from ``history``; its end is the origin of the next forecasts."""
        if history.end_unix_s - history.start_unix_s < DAY_S:
            raise BadInput(f"{self.name} needs at least one day of history to forecast")
        origin, step, x = regular_grid(history)
        if x.size and not np.all(np.isfinite(x)):
            raise BadInput(f"{self.name}: history of {history.zone} has non-finite values")
        self._origin, self._step = origin, step
        self._zone, self._source = history.zone, history.source
        self._fit(x, step)
        return self

    def predict(self, start_unix_s: float, horizon_s: float, step_s: float) -> IntensitySeries:
        """Forecast values at ``start, start + step, ...`` up to ``start + horizon``."""
        if self._origin is None:
            raise BadInput(f"{self.name}: call fit(history) before predict")
        if start_unix_s < self._origin:
            raise BadInput(
                f"{self.name}: cannot forecast from {start_unix_s:.0f}, before the end of the "
                f"history it was fitted on ({self._origin:.0f})"
            )
        if horizon_s <= 0 or step_s <= 0:
            raise BadInput(f"horizon_s and step_s must be > 0, got {horizon_s}, {step_s}")
        t = start_unix_s + step_s * np.arange(max(1, math.ceil(horizon_s / step_s - 1e-9)))
        lead = np.floor((t - self._origin) / self._step + 1e-9).astype(np.int64)
        values = np.maximum(self._predict(lead), 0.0)
        return IntensitySeries(
            t_unix_s=t,
            g_per_kwh=values,
            zone=self._zone,
            source=f"forecast:{self.name} from {self._source}",
            kind="forecast",
            step_s=step_s,
            notes=(f"estimated: {self.name} forecast from data before "
                   f"{self._origin:.0f} (Unix s)",),
        )

    def forecast_many(self, series: IntensitySeries, origins_unix_s: np.ndarray,
                      n_steps: int) -> np.ndarray:
        """Forecasts from many origins at once: row ``k`` holds ``n_steps`` values at
        ``origins[k] + j · series.step_s``, exactly what ``forecast_at`` gives there.

        Each row is fitted on the periods that ended by its own origin and nothing
        later (the same cut as ``forecast_at``), so a replay of many decisions can ask
        for every forecast it needs in one call. On a regular series the history is
        sliced from one array instead of rebuilt per origin; learned forecasters
        override this to batch their predictions too.
        """
        origins = np.asarray(origins_unix_s, dtype=np.float64).reshape(-1)
        if isinstance(n_steps, bool) or not isinstance(n_steps, (int, np.integer)) or n_steps < 1:
            raise BadInput(f"n_steps must be a whole number >= 1, got {n_steps!r:.40}")
        step = float(series.step_s)
        if DAY_S % step:
            raise BadInput(f"forecasting needs a step that divides one day, got {step:g} s")
        out = np.empty((origins.size, int(n_steps)))
        self._zone, self._source, self._step = series.zone, series.source, step
        for k, (a, b) in enumerate(history_bounds(series, origins, self.history_s)):
            o = float(origins[k])
            self._origin, x = history_grid(series, a, b, o)
            if self._origin - float(series.t_unix_s[a]) < DAY_S:
                raise BadInput(f"{self.name} needs at least one day of history to forecast")
            self._fit(x, step)
            lead = np.floor((o + step * np.arange(n_steps) - self._origin) / step
                            + 1e-9).astype(np.int64)
            out[k] = np.maximum(self._predict(lead), 0.0)
        return out

    @abstractmethod
    def _fit(self, x: np.ndarray, step_s: float) -> None:
        """``x``: regular history ending at the origin (``x[-1]`` is the last sample)."""

    @abstractmethod
    def _predict(self, lead: np.ndarray) -> np.ndarray:
        """Values for grid leads ``lead`` (0 is the first sample after the origin)."""


class PersistenceForecaster(Forecaster):
    """Naive baselines: the last value, or the same time on the last observed day."""

    history_s = 2 * DAY_S

    def __init__(self, mode: Literal["last", "yesterday"] = "last") -> None:
        super().__init__()
        if mode not in ("last", "yesterday"):
            raise BadInput(f"persistence mode must be 'last' or 'yesterday', got {mode!r}")
        self.mode = mode
        self.name = "persistence-last" if mode == "last" else "persistence-yesterday"
        self._x = np.empty(0)
        self._spd = 0

    def _fit(self, x: np.ndarray, step_s: float) -> None:
        self._spd = int(DAY_S // step_s)
        self._x = x[-self._spd :].copy()  # the last full day is all either mode needs

    def _predict(self, lead: np.ndarray) -> np.ndarray:
        if self.mode == "last":
            return np.full(lead.shape, self._x[-1])
        # Same phase of the last observed day: lead k maps to x[-spd + (k mod spd)].
        return self._x[np.mod(lead, self._spd)]


class SeasonalForecaster(Forecaster):
    """Recent level + daily/weekly profile + the current departure, carried forward.

    With ``w = weekly_weight``, the baseline at lead ``k`` is
    ``(1 - w)·(D + P_day) + w·(W + P_week)``: ``D`` and ``W`` are the means of
    the last day and the last week; ``P_day`` is the exponentially weighted
    (half-life ``day_half_life_d``) mean over the last ``days`` days of the
    deviation from a centred one-day moving mean at that time of day; ``P_week``
    the mean over the last ``weeks`` weeks of the deviation from a centred
    one-week moving mean at that time of week (it carries weekday levels, such
    as lower weekend demand). The last sample's departure from its baseline is
    added back times β(k+1), the in-sample regression slope of the departure
    ``k + 1`` steps later on the departure now with the level held (clipped to
    [0, 1]): a departure lasts as long as the history says departures last.
    With under two weeks of history the weekly share is 0.
    """

    name = "seasonal"

    def __init__(self, *, days: int = 14, weeks: int = 4, day_half_life_d: float = 4.0,
                 weekly_weight: float = 0.5) -> None:
        super().__init__()
        if days < 1 or weeks < 1 or day_half_life_d <= 0 or not 0 <= weekly_weight <= 1:
            raise BadInput("seasonal forecaster needs days >= 1, weeks >= 1, "
                           "day_half_life_d > 0 and 0 <= weekly_weight <= 1")
        self.days, self.weeks = days, weeks
        self.day_half_life_d, self.weekly_weight = day_half_life_d, weekly_weight
        self.history_s = max(days * DAY_S, weeks * WEEK_S + 4 * DAY_S) + DAY_S
        self._level = 0.0
        self._p_day = np.empty(0)
        self._p_week = np.empty(0)
        self._w = 0.0
        self._r0 = 0.0
        self._rho = np.empty(0)

    def _fit(self, x: np.ndarray, step_s: float) -> None:
        spd = int(DAY_S // step_s)
        spw = 7 * spd
        n = x.size
        csum = np.concatenate(([0.0], np.cumsum(x)))
        phase = np.arange(n) - n  # 0 is the origin, -1 the last sample
        age_d = -phase / spd
        # Profiles are deviations from a *centred* moving mean (one day for the
        # daily profile, one week for the weekly one), so a trend in the level
        # does not leak into them; the weekly profile keeps weekday levels.
        dev_d, ok_d = _centred_deviation(x, csum, spd)
        w_day = np.where(ok_d & (age_d <= self.days), 0.5 ** (age_d / self.day_half_life_d), 0.0)
        self._p_day = _weighted_profile(np.mod(phase, spd), dev_d, w_day, spd)
        dev_w, ok_w = _centred_deviation(x, csum, spw)
        in_weeks = ok_w & (age_d <= 7 * self.weeks + 3.5)
        if np.count_nonzero(in_weeks) >= spw:
            self._p_week = _weighted_profile(np.mod(phase, spw), dev_w,
                                             in_weeks.astype(np.float64), spw)
            self._w = self.weekly_weight
        else:
            self._p_week = np.zeros(spw)
            self._w = 0.0
        # Level: trailing one-day mean, blended with the trailing one-week mean
        # in the weekly share (used where the history is long enough).
        j = np.arange(spd - 1, n)
        day_mean = (csum[j + 1] - csum[j + 1 - spd]) / spd
        week_mean = np.where(j + 1 >= spw, (csum[j + 1] - csum[np.maximum(j + 1 - spw, 0)]) / spw,
                             day_mean)
        level = (1 - self._w) * day_mean + self._w * week_mean
        self._level = float(level[-1])
        # How much of the current departure from the baseline is still there k
        # steps on, with the level frozen as it is at the forecast origin: the
        # regression slope of later departures on the departure at i, fitted
        # in-sample over the last ``days`` days.
        y = x - self._profile(phase)
        keep = j >= n - self.days * spd
        j, level = j[keep], level[keep]
        a = y[j] - level
        self._r0 = float(a[-1])
        self._rho = _carry_over(a, level, y[j[0] :], max_lag=min(a.size - 1, spw))

    def _profile(self, phase: np.ndarray) -> np.ndarray:
        spd = self._p_day.size
        return ((1 - self._w) * self._p_day[np.mod(phase, spd)]
                + self._w * self._p_week[np.mod(phase, 7 * spd)])

    def _predict(self, lead: np.ndarray) -> np.ndarray:
        base = self._level + self._profile(lead)
        rho = self._rho[np.minimum(lead + 1, self._rho.size - 1)]
        return base + np.clip(rho, 0.0, 1.0) * self._r0


def _centred_deviation(x: np.ndarray, csum: np.ndarray,
                       window: int) -> tuple[np.ndarray, np.ndarray]:
    """``x`` minus its centred ``window``-sample moving mean, and where that exists."""
    n = x.size
    half = window // 2
    i = np.arange(n)
    ok = (i >= half) & (i + window - half <= n)
    lo = np.clip(i - half, 0, n)
    hi = np.clip(i + window - half, 0, n)
    dev = np.where(ok, x - (csum[hi] - csum[lo]) / window, 0.0)
    return dev, ok


def _weighted_profile(slot: np.ndarray, dev: np.ndarray, w: np.ndarray, size: int) -> np.ndarray:
    """Weighted mean deviation per slot; slots with no data get 0 (no adjustment)."""
    num = np.bincount(slot, weights=w * dev, minlength=size)
    den = np.bincount(slot, weights=w, minlength=size)
    return np.divide(num, den, out=np.zeros(size), where=den > 0)


def _carry_over(a: np.ndarray, level: np.ndarray, y: np.ndarray, max_lag: int) -> np.ndarray:
    """β(k) = Σ a_i (y_{i+k} - level_i) / Σ a_i² over i with i + k in range, k = 0..max_lag.

    ``a`` are departures at i, ``y`` the deseasonalised series from the same
    first index; the cross sum is one FFT correlation, the rest cumulative sums.
    """
    n = a.size
    if n < 2 or not np.any(a):
        return np.zeros(max(max_lag, 0) + 1)
    size = 1 << (2 * n - 1).bit_length()
    cross = np.fft.irfft(np.conj(np.fft.rfft(a, size)) * np.fft.rfft(y[:n], size), size)
    k = np.arange(max_lag + 1)
    last = n - k  # i runs over [0, n - k)
    s_al = np.concatenate(([0.0], np.cumsum(a * level)))[last]
    s_aa = np.concatenate(([0.0], np.cumsum(a * a)))[last]
    return np.divide(cross[k] - s_al, s_aa, out=np.zeros(k.size), where=s_aa > 0)


# --- by name ------------------------------------------------------------------------

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


# --- evaluation ---------------------------------------------------------------------


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
    step = series.step_s
    lo = np.searchsorted(series.t_unix_s, origin_unix_s - forecaster.history_s, side="left")
    hi = np.searchsorted(series.t_unix_s, origin_unix_s - step, side="right")
    if hi - lo < 2:
        raise BadInput(f"no history before origin {origin_unix_s:.0f} in {series.source}")
    history = IntensitySeries(
        t_unix_s=series.t_unix_s[lo:hi],
        g_per_kwh=series.g_per_kwh[lo:hi],
        zone=series.zone,
        source=series.source,
        kind=series.kind,
        step_s=step,
        notes=series.notes,
    )
    forecaster.fit(history)
    fc = forecaster.predict(origin_unix_s, horizon_s, step)
    scen = None
    if error is not False:
        from wattwise.carbon.forecast_replay import SCENARIO_DAYS, ForecastReplay

        days = SCENARIO_DAYS if scenario_days is None else scenario_days
        scen = ForecastReplay(forecaster, series).scenarios(origin_unix_s, len(fc), days)
        scen.setflags(write=False)
    return _as_forecast(fc, est, note, scen)


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
            fc = forecast_at(self.forecaster, self.series, o, n * self.series.step_s,
                             error=False)
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
