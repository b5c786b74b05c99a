"""The forecaster interface, and the cut that keeps every forecast to its own past.

A :class:`Forecaster` is fitted on a series that ends at the forecast origin and
predicts from there; ``forecast_from`` cuts a series at an origin (periods that
ended by it, at most the forecaster's ``history_s``) and fits on that alone, and
``Forecaster.forecast_many`` does the same for many origins at once. Every
forecaster (``forecast_seasonal``, ``forecast_learned``, ``forecast_gbt``) and
everything that replays one (``forecast_error``, ``forecast_replay``) builds on
this module; ``forecast`` names them all.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod

import numpy as np

from wattwise.carbon.sources import IntensitySeries
from wattwise.errors import BadInput

DAY_S = 86400.0

WEEK_S = 7 * DAY_S

HOUR_S = 3600.0


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


def forecast_from(forecaster: Forecaster, series: IntensitySeries, origin_unix_s: float,
                  horizon_s: float) -> IntensitySeries:
    """Fit ``forecaster`` on ``series`` strictly before ``origin`` and forecast from there.

    Only samples whose period ends by the origin (``t + step <= origin``) are passed
    to ``fit``, and at most ``forecaster.history_s`` of them: a period average is not
    known before its period is over, so no value at or after the origin can reach the
    forecast. ``forecast.forecast_at`` adds the forecast's own error estimate.
    """
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
    return forecaster.predict(origin_unix_s, horizon_s, step)
