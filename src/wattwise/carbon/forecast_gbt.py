"""A gradient-boosted forecaster (scikit-learn's HistGradientBoostingRegressor), optional.

``GradientBoostedForecaster`` ("gbt") learns a correction to a plain path,
the last value plus the last week's mean daily shape from now on, from the
zone's own history and the calendar: lead, time of day of the origin and of
the target, day of week, the recent changes, how far the last value is from
its usual level, the same time yesterday and a week ago. It predicts the mean
of each whole hour ahead and reads the steps in between on a line through the
hourly values, so its path is smooth (a tree model predicting every step
alone gives a jagged one, whose dips a scheduler would chase); the correction
phases in linearly over the first ``phase_in_h`` hours (24 by default: at short
leads the correction made the forecast worse, at a day it made it better). It is retrained
every ``retrain_days`` days on the ``train_days`` before the retrain instant
(UTC), never on anything after it.

``quantiles`` trains one more model per quantile (pinball loss), and
``quantile_forecast`` returns them: quantile forecasts from the model itself,
next to the distribution-free ones every forecaster gets from its replayed
errors (``ForecastReplay.quantiles``).

scikit-learn is an optional dependency (the ``demo`` and ``dev`` extras); without
it this forecaster raises BadInput with the line that installs it, and the
ensemble's default members do not use it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from wattwise.carbon.forecast_base import HOUR_S
from wattwise.carbon.forecast_learned import RetrainedForecaster, day_mean_profile, steps_per_day
from wattwise.carbon.sources import IntensitySeries
from wattwise.errors import BadInput

INSTALL = 'the gbt forecaster needs scikit-learn: pip install "wattwise[demo]"'


def _regressor(**kw: Any) -> Any:
    try:
        from sklearn.ensemble import HistGradientBoostingRegressor
    except ImportError as exc:
        raise BadInput(f"{INSTALL} ({exc})") from exc
    return HistGradientBoostingRegressor(**kw)


class GradientBoostedForecaster(RetrainedForecaster):
    """Hourly gradient-boosted corrections of a last-value-plus-daily-shape path."""

    name = "gbt"
    lag_days = 8

    def __init__(self, *, train_days: int = 42, retrain_days: int = 7, max_lead_h: int = 48,
                 n_rows: int = 12_000, max_iter: int = 100, max_leaf_nodes: int = 15,
                 quantiles: Sequence[float] = (), phase_in_h: float = 24.0) -> None:
        super().__init__()
        qs = tuple(float(q) for q in quantiles)
        if not (isinstance(train_days, int) and 2 <= train_days <= 366
                and isinstance(retrain_days, int) and 1 <= retrain_days <= 28
                and isinstance(max_lead_h, int) and 1 <= max_lead_h <= 168
                and n_rows >= 100 and max_iter >= 1 and max_leaf_nodes >= 2
                and all(0 < q < 1 for q in qs) and 0 < phase_in_h <= 168):
            raise BadInput("gbt forecaster needs 2 <= train_days <= 366, 1 <= retrain_days <= 28 "
                           "(a model is retrained at most daily), 1 <= max_lead_h <= 168, "
                           "n_rows >= 100, max_iter >= 1, max_leaf_nodes >= 2, quantiles "
                           "strictly between 0 and 1 and 0 < phase_in_h <= 168")
        self.train_days, self.retrain_days, self.max_lead_h = train_days, retrain_days, max_lead_h
        self.n_rows, self.max_iter, self.max_leaf_nodes = n_rows, max_iter, max_leaf_nodes
        self.quantiles, self.phase_in_h = qs, phase_in_h
        self._set_history()

    # -- features --------------------------------------------------------------------

    @staticmethod
    def _base(x: np.ndarray, prof: np.ndarray, i: np.ndarray, h: np.ndarray,
              spd: int) -> np.ndarray:
        """The plain path: last value plus the week's mean shape from now to the target."""
        j0 = i + np.mod(h, spd) - spd
        return x[i - 1] + prof[j0] - prof[i - 1]

    def _features(self, x: np.ndarray, prof: np.ndarray, i: np.ndarray, h: np.ndarray,
                  origin_index_unix_s: float, step_s: float) -> np.ndarray:
        """Rows for origins ``i`` (first unknown sample) and leads ``h`` (steps).

        ``origin_index_unix_s`` is the time at which sample 0 of ``x`` starts, for the
        calendar (UTC time of day and day of week of the target)."""
        spd, q = steps_per_day(step_s), max(1, round(HOUR_S / step_s))
        last = x[i - 1]
        j0 = i + np.mod(h, spd) - spd
        wk = i + np.mod(h, 7 * spd) - 7 * spd
        t_target = origin_index_unix_s + (i + h) * step_s
        t_origin = origin_index_unix_s + i * step_s
        tod_target = np.mod(t_target, 86400.0) / HOUR_S
        dow_target = np.mod(np.floor(t_target / 86400.0) + 3, 7)  # 1970-01-01 was a Thursday
        return np.column_stack([
            h * step_s / HOUR_S, np.mod(t_origin, 86400.0) / HOUR_S, tod_target, dow_target,
            last - x[i - 2], last - x[i - 1 - q], last - x[i - 1 - 3 * q], last - x[i - 1 - 6 * q],
            last - x[i - 1 - spd], last - prof[i - 1], prof[j0] - prof[i - 1], x[j0] - last,
            x[wk] - last, last])

    # -- training and prediction -------------------------------------------------------

    def _train(self, x: np.ndarray, step_s: float, cut_unix_s: float) -> Any:
        spd, q = steps_per_day(step_s), max(1, round(HOUR_S / step_s))
        prof = day_mean_profile(x, spd)
        first = max(7 * spd + 9, x.size - self.train_days * spd)
        rng = np.random.default_rng(int(cut_unix_s) & 0xFFFFFFFF)
        n_hours = self.max_lead_h
        h = rng.integers(0, n_hours, self.n_rows) * q + q // 2  # hour-block centres
        i = rng.integers(first, max(first + 1, x.size), self.n_rows)
        ok = i + h - q // 2 + q <= x.size  # the whole target hour ended by the cut
        i, h = i[ok], h[ok]
        if i.size < 200:
            return None
        cs = np.concatenate(([0.0], np.cumsum(x)))
        a = i + h - q // 2
        y = (cs[a + q] - cs[a]) / q - self._base(x, prof, i, h, spd)
        t0 = cut_unix_s - x.size * step_s
        feats = self._features(x, prof, i, h, t0, step_s)
        kw = dict(max_iter=self.max_iter, max_leaf_nodes=self.max_leaf_nodes,
                  min_samples_leaf=50, l2_regularization=1.0, early_stopping=False,
                  random_state=0)
        models = {0.5: _regressor(**kw).fit(feats, y)}
        for qt in self.quantiles:
            models[qt] = _regressor(loss="quantile", quantile=qt, **kw).fit(feats, y)
        return models

    def _paths(self, x: np.ndarray, models: dict[float, Any], lead: np.ndarray,
               which: Sequence[float]) -> np.ndarray:
        assert self._origin is not None
        step = self._step
        spd, q = steps_per_day(step), max(1, round(HOUR_S / step))
        prof = day_mean_profile(x, spd)
        n = x.size
        horizon = int(lead.max()) + 1 if lead.size else 1
        centres = np.arange(q // 2, horizon + q, q)
        i = np.full(centres.size, n)
        t0 = self._origin - n * step
        feats = self._features(x, prof, i, centres, t0, step)
        steps = np.arange(horizon)
        base = self._base(x, prof, np.full(horizon, n), steps, spd)
        # The correction phases in over ``phase_in_h``: near the origin the last value and
        # the week's shape already carry most of what is known, and a tree's correction
        # there (one value for a whole leaf of situations) adds more noise than skill.
        ramp = np.clip(steps * step / (self.phase_in_h * HOUR_S), 0.0, 1.0)
        out = np.empty((len(which), lead.size))
        for r, qt in enumerate(which):
            corr = models[qt].predict(feats)
            out[r] = (base + ramp * np.interp(steps, centres, corr))[lead]
        return out

    def _forecast(self, x: np.ndarray, model: Any, lead: np.ndarray) -> np.ndarray:
        if model is None:
            return np.full(lead.shape, x[-1])
        return self._paths(x, model, lead, (0.5,))[0]

    def quantile_forecast(self, series: IntensitySeries, origin_unix_s: float,
                          n_steps: int) -> np.ndarray:
        """Rows of the model's own quantile forecasts (``self.quantiles``, in order),
        ``n_steps`` from the origin, fitted on data before it (as ``forecast_many``)."""
        if not self.quantiles:
            raise BadInput("this gbt forecaster was made without quantiles=(...)")
        self.forecast_many(series, np.array([float(origin_unix_s)]), n_steps)  # fits
        assert self._origin is not None
        lead = np.floor((origin_unix_s + self._step * np.arange(n_steps) - self._origin)
                        / self._step + 1e-9).astype(np.int64)
        if self._model is None:
            return np.repeat(self._predict(lead)[None, :], len(self.quantiles), axis=0)
        return np.maximum(self._paths(self._x, self._model, lead, self.quantiles), 0.0)
