"""Forecasters that learn from the zone's own history, and their backtest-weighted ensemble.

All three are numpy only (the gradient-boosted one, which needs scikit-learn,
lives in ``forecast_gbt``). Each is fitted on a history that ends at the origin
and never reads past it; a model trained once a day is trained on data that had
ended by that day's first instant (UTC), at or before every origin it serves,
and is reused only for the very same training data (a fingerprint of it is part
of the cache key), so a forecast is a function of the data before its origin
alone, whatever was forecast before.

- ``LinearForecaster`` ("linear"): one ridge regression per lead of the change
  from the last value, on the last eight steps' changes, the changes over the
  last 1, 3, 6 and 24 hours, the mean daily shape of the last week (from now to
  the target's time of day), the same time yesterday and a week ago, and how far
  the last value sits from its usual level: a direct multi-horizon model that
  learns how much of a departure lasts and how the recent trend carries on.
- ``AnalogForecaster`` ("analog"): the ``k`` past moments, at about the same
  time of day, whose last hours looked most like the last hours now; the
  forecast is now plus the mean of what followed them.
- ``EnsembleForecaster`` ("ensemble"): a weighted mean of members, weighted per
  zone and day by a backtest of each member over the days before (the error of
  the forecast's *shape*, what moving a job in time rests on), dropping members
  far behind the best one.
"""

from __future__ import annotations

import hashlib
import math
from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from wattwise.carbon.forecast_base import DAY_S, HOUR_S, Forecaster
from wattwise.carbon.forecast_seasonal import SeasonalForecaster
from wattwise.errors import BadInput

#: Models (or weights) kept per forecaster: a year of days, so a replay that goes over the
#: year once per scenario trains each day's model once (a linear model is a few kB).
_KEEP = 400


def fingerprint(x: np.ndarray) -> bytes:
    """A digest of the values a model was trained on (its cache key)."""
    return hashlib.blake2b(np.ascontiguousarray(x, dtype=np.float64).tobytes(),
                           digest_size=16).digest()


def steps_per_day(step_s: float) -> int:
    """Samples in one day at ``step_s`` (a step that divides a day, as ``fit`` checks)."""
    return int(DAY_S // step_s)


def day_mean_profile(x: np.ndarray, spd: int, days: int = 7) -> np.ndarray:
    """``p[j]``: mean of ``x[j], x[j - spd], ..., x[j - (days-1)·spd]`` (NaN where short).

    The mean level at one time of day over the last week, ending at ``j``; reads
    nothing after ``j``.
    """
    n = x.size
    out = np.full(n, np.nan)
    if n <= (days - 1) * spd:
        return out
    acc = np.zeros(n - (days - 1) * spd)
    for m in range(days):
        acc += x[(days - 1 - m) * spd : n - m * spd]
    out[(days - 1) * spd :] = acc / days
    return out


class RetrainedForecaster(Forecaster):
    """A forecaster whose model is trained on the history up to the last UTC retrain
    boundary before the origin (every ``retrain_days`` days), and reused only for the
    same training data. The base of ``LinearForecaster`` and of ``forecast_gbt``'s
    ``GradientBoostedForecaster``: a subclass gives ``_train`` and ``_forecast``."""

    retrain_days: int = 1
    train_days: int = 42
    #: Days of history a training row needs before its origin (lags and profiles).
    lag_days: int = 8

    def __init__(self) -> None:
        super().__init__()
        self._models: OrderedDict[tuple[float, float, bytes], Any] = OrderedDict()
        self._x = np.empty(0)
        self._model: Any = None
        self._fallback: SeasonalForecaster | None = None

    def _set_history(self) -> None:
        self.history_s = (self.train_days + self.lag_days + self.retrain_days + 1) * DAY_S

    def _fit(self, x: np.ndarray, step_s: float) -> None:
        assert self._origin is not None  # set by fit / forecast_many
        period = self.retrain_days * DAY_S
        cut_t = math.floor(self._origin / period + 1e-9) * period
        cut = x.size - round((self._origin - cut_t) / step_s)
        self._x = x
        spd = steps_per_day(step_s)
        need = (self.train_days + self.lag_days) * spd
        train = x[max(cut - need, 0) : max(cut, 0)]
        if train.size < (self.lag_days + 2) * spd:
            # Too little history to learn from yet: the seasonal forecaster stands in.
            self._model = None
            self._fallback = SeasonalForecaster()
            self._fallback._origin, self._fallback._step = self._origin, step_s
            self._fallback._fit(x, step_s)
            return
        self._fallback = None
        key = (cut_t, step_s, fingerprint(train))
        model = self._models.get(key)
        if model is None:
            model = self._train(train, step_s, cut_t)
            self._models[key] = model
            while len(self._models) > _KEEP:
                self._models.popitem(last=False)
        else:
            self._models.move_to_end(key)
        self._model = model

    def _predict(self, lead: np.ndarray) -> np.ndarray:
        if self._fallback is not None:
            return self._fallback._predict(lead)
        return self._forecast(self._x, self._model, lead)

    def _train(self, x: np.ndarray, step_s: float, cut_unix_s: float) -> Any:
        """A model from ``x``, a history that ends at ``cut_unix_s``."""
        raise NotImplementedError

    def _forecast(self, x: np.ndarray, model: Any, lead: np.ndarray) -> np.ndarray:
        """Values at ``lead`` steps after the end of ``x`` (0: the first unknown step)."""
        raise NotImplementedError


class _Features:
    """The linear model's inputs at origins ``i`` (index of the first unknown step)."""

    N_DIFFS = 8

    def __init__(self, x: np.ndarray, step_s: float) -> None:
        self.x = x
        self.spd = steps_per_day(step_s)
        self.q = max(1, round(HOUR_S / step_s))
        self.prof = day_mean_profile(x, self.spd)

    @property
    def first_origin(self) -> int:
        """Least origin index whose features all exist."""
        return 7 * self.spd + self.N_DIFFS + 1

    def common(self, i: np.ndarray) -> np.ndarray:
        """Columns that do not depend on the lead (constant first)."""
        x, q, spd = self.x, self.q, self.spd
        last = x[i - 1]
        cols = [np.ones(i.size)]
        cols += [x[i - k] - x[i - k - 1] for k in range(1, self.N_DIFFS + 1)]
        cols += [last - x[i - 1 - q], last - x[i - 1 - 3 * q], last - x[i - 1 - 6 * q],
                 last - x[i - 1 - spd], last - self.prof[i - 1]]
        return np.column_stack(cols)

    def by_lead(self, i: np.ndarray, h: np.ndarray | int) -> np.ndarray:
        """Columns at lead ``h`` (broadcast against ``i``): the week's mean shape from now
        to the target's time of day, the same time yesterday and a week ago, and
        yesterday's last hour into that time."""
        x, spd = self.x, self.spd
        i, h = np.broadcast_arrays(np.asarray(i), np.asarray(h))
        last = x[i - 1]
        j0 = i + np.mod(h, spd) - spd  # the target's time of day, on the last day observed
        wk = i + np.mod(h, 7 * spd) - 7 * spd
        return np.column_stack([self.prof[j0] - self.prof[i - 1], x[j0] - last, x[wk] - last,
                                x[j0] - x[j0 - self.q]])


class LinearForecaster(RetrainedForecaster):
    """Direct multi-horizon ridge regression of the change from the last value.

    One coefficient vector per lead (fitted leads every step for the first
    ``fine_h`` hours, then every hour; leads between share the nearest fitted
    one's), trained on origins every ``origin_every_min`` minutes over the last
    ``train_days`` days, retrained every ``retrain_days`` days.
    """

    name = "linear"

    def __init__(self, *, train_days: int = 42, retrain_days: int = 1, max_lead_h: float = 48.0,
                 fine_h: float = 3.0, ridge: float = 1e-3, origin_every_min: float = 30.0) -> None:
        super().__init__()
        if not (isinstance(train_days, int) and 2 <= train_days <= 366
                and isinstance(retrain_days, int) and 1 <= retrain_days <= 28
                and 1 <= max_lead_h <= 168 and 0 <= fine_h <= max_lead_h and ridge >= 0
                and origin_every_min > 0):
            raise BadInput("linear forecaster needs 2 <= train_days <= 366, 1 <= retrain_days "
                           "<= 28, 1 <= max_lead_h <= 168, 0 <= fine_h <= max_lead_h, "
                           "ridge >= 0 and origin_every_min > 0")
        self.train_days, self.retrain_days = train_days, retrain_days
        self.max_lead_h, self.fine_h, self.ridge = max_lead_h, fine_h, ridge
        self.origin_every_min = origin_every_min
        self._set_history()

    def _fitted_leads(self, step_s: float) -> np.ndarray:
        q = max(1, round(HOUR_S / step_s))
        fine = int(self.fine_h * HOUR_S / step_s)
        last = int(self.max_lead_h * HOUR_S / step_s)
        return np.unique(np.concatenate([np.arange(min(fine, last)),
                                         np.arange(fine, last + 1, q)])).astype(np.int64)

    def _train(self, x: np.ndarray, step_s: float, cut_unix_s: float) -> Any:
        f = _Features(x, step_s)
        stride = max(1, round(self.origin_every_min * 60 / step_s))
        leads = self._fitted_leads(step_s)
        first = max(f.first_origin, x.size - self.train_days * f.spd)
        coefs: list[np.ndarray | None] = []
        for h in leads.tolist():
            i = np.arange(x.size - 1 - h, first - 1, -stride)[::-1]  # targets end by the cut
            if i.size < 24:
                coefs.append(None)
                continue
            feats = np.hstack([f.common(i), f.by_lead(i, h)])
            y = x[i + h] - x[i - 1]
            coefs.append(_ridge(feats, y, self.ridge))
        known = [c for c in coefs if c is not None]
        if not known:
            return None
        # Leads too long for this much history take the longest lead that could be fitted.
        filled, prev = [], known[0]
        for c in coefs:
            prev = prev if c is None else c
            filled.append(prev)
        return leads, np.array(filled)

    def _forecast(self, x: np.ndarray, model: Any, lead: np.ndarray) -> np.ndarray:
        if model is None:
            return np.full(lead.shape, x[-1])
        leads, coefs = model
        f = _Features(x, self._step)
        i = np.full(lead.size, x.size)
        feats = np.hstack([np.broadcast_to(f.common(i[:1]), (lead.size, coefs.shape[1] - 4)),
                           f.by_lead(i, lead)])
        k = np.clip(np.searchsorted(leads, lead, side="right") - 1, 0, leads.size - 1)
        return x[-1] + np.einsum("ij,ij->i", feats, coefs[k])


def _ridge(feats: np.ndarray, y: np.ndarray, ridge: float) -> np.ndarray:
    """Ridge coefficients on standardised columns (the first, the constant, unpenalised)."""
    scale = feats.std(axis=0)
    scale[0] = 1.0
    scale[scale < 1e-12] = 1.0
    z = feats / scale
    a = z.T @ z
    pen = ridge * y.size * np.eye(a.shape[0])
    pen[0, 0] = 0.0
    try:
        beta = np.linalg.solve(a + pen, z.T @ y)
    except np.linalg.LinAlgError:
        beta = np.linalg.lstsq(a + pen, z.T @ y, rcond=None)[0]
    return beta / scale


class AnalogForecaster(Forecaster):
    """Now plus the mean change that followed the ``k`` most similar past moments.

    Candidates are the moments ``d`` days before the origin (``d`` up to ``days``),
    shifted by up to ``shift_h`` hours, whose whole future up to the lead asked for
    had ended by the origin. Similarity is the mean squared difference of the last
    ``window_h`` hours (each relative to its own last value) plus ``level_weight``
    times the squared difference of the last values.
    """

    name = "analog"

    def __init__(self, *, days: int = 56, k: int = 20, window_h: float = 6.0,
                 shift_h: float = 1.0, level_weight: float = 0.5) -> None:
        super().__init__()
        if not (isinstance(days, int) and 2 <= days <= 366 and isinstance(k, int) and k >= 1
                and 0 < window_h <= 48 and 0 <= shift_h <= 12 and level_weight >= 0):
            raise BadInput("analog forecaster needs 2 <= days <= 366, k >= 1, "
                           "0 < window_h <= 48, 0 <= shift_h <= 12 and level_weight >= 0")
        self.days, self.k, self.window_h = days, k, window_h
        self.shift_h, self.level_weight = shift_h, level_weight
        self.history_s = (days + 1) * DAY_S
        self._x = np.empty(0)
        self._fallback: SeasonalForecaster | None = None

    def _fit(self, x: np.ndarray, step_s: float) -> None:
        self._x = x
        self._fallback = None

    def _predict(self, lead: np.ndarray) -> np.ndarray:
        x, step = self._x, self._step
        n, spd = x.size, steps_per_day(step)
        horizon = int(lead.max()) + 1 if lead.size else 1
        m = max(1, round(self.window_h * HOUR_S / step))
        sh = round(self.shift_h * HOUR_S / step)
        d = np.arange(1, self.days + 1)
        cand = (n - d[:, None] * spd + np.arange(-sh, sh + 1)[None, :]).ravel()
        cand = cand[(cand + horizon <= n) & (cand - m - 1 >= 0)]
        if cand.size < self.k:
            if self._fallback is None:
                self._fallback = SeasonalForecaster()
                self._fallback._origin, self._fallback._step = self._origin, step
                self._fallback._fit(x, step)
            return self._fallback._predict(lead)
        now = x[n - m :] - x[-1]
        past = x[cand[:, None] + np.arange(-m, 0)[None, :]] - x[cand - 1][:, None]
        dist = np.mean((past - now) ** 2, axis=1) + self.level_weight * (x[cand - 1] - x[-1]) ** 2
        near = cand[np.argsort(dist, kind="stable")[: self.k]]
        path = np.mean(x[near[:, None] + np.arange(horizon)[None, :]] - x[near - 1][:, None],
                       axis=0)
        return x[-1] + path[lead]


class EnsembleForecaster(Forecaster):
    """A weighted mean of member forecasters, weighted per zone by their own backtest.

    Once per UTC day (the weights' cut ``T``), each member is replayed at origins
    every ``every_h`` hours over the ``select_days`` days before ``T``, each fitted
    on data before its own origin and scored on the ``horizon_h`` hours after it,
    all of which had ended by ``T``. The score is the mean squared error of the
    forecast's shape (its error minus that error's mean over the horizon): a
    scheduler compares times, so a level error common to all of them costs
    nothing. Members scoring worse than ``drop_above`` times the best are left
    out (the selection); the rest are weighted by the inverse of their score.
    With fewer than ``MIN_ORIGINS`` replays every member weighs the same.
    """

    name = "ensemble"
    MIN_ORIGINS = 4

    def __init__(self, members: Sequence[Forecaster] | None = None, *, select_days: int = 28,
                 every_h: float = 6.0, horizon_h: float = 24.0, drop_above: float = 2.0) -> None:
        super().__init__()
        ms = list(members) if members is not None else default_members()
        if not ms or not all(isinstance(m, Forecaster) for m in ms):
            raise BadInput("an ensemble needs at least one member forecaster")
        if not (isinstance(select_days, int) and 1 <= select_days <= 366 and every_h > 0
                and horizon_h > 0 and drop_above >= 1):
            raise BadInput("ensemble needs 1 <= select_days <= 366, every_h > 0, horizon_h > 0 "
                           "and drop_above >= 1")
        self.members = ms
        self.select_days, self.every_h, self.horizon_h = select_days, every_h, horizon_h
        self.drop_above = drop_above
        self.name = "ensemble(" + "+".join(m.name for m in ms) + ")"
        self.history_s = max(m.history_s for m in ms) + (select_days + 2) * DAY_S
        self._weights: OrderedDict[tuple[float, float, bytes], np.ndarray] = OrderedDict()
        self._memo: dict[tuple[int, float, float], tuple[bytes, np.ndarray]] = {}
        self._w = np.empty(0)
        self._scores: np.ndarray | None = None

    @property
    def weights(self) -> dict[str, float]:
        """The last forecast's weight of each member (by name)."""
        return {m.name: float(w) for m, w in zip(self.members, self._w, strict=True)}

    def _fit(self, x: np.ndarray, step_s: float) -> None:
        assert self._origin is not None
        cut_t = math.floor(self._origin / DAY_S + 1e-9) * DAY_S
        cut = x.size - round((self._origin - cut_t) / step_s)
        self._w = self._weights_at(x, max(cut, 0), step_s, cut_t)
        for m in self.members:
            _refit(m, x, self._origin, step_s, self._zone, self._source)

    def _predict(self, lead: np.ndarray) -> np.ndarray:
        out = np.zeros(lead.shape)
        for m, w in zip(self.members, self._w, strict=True):
            if w > 0:
                out += w * np.maximum(m._predict(lead), 0.0)
        return out

    def _weights_at(self, x: np.ndarray, cut: int, step_s: float, cut_t: float) -> np.ndarray:
        """Member weights from replays that ended by sample ``cut`` (time ``cut_t``)."""
        spd = steps_per_day(step_s)
        n_h = max(1, round(self.horizon_h * HOUR_S / step_s))
        every = max(1, round(self.every_h * HOUR_S / step_s))
        span = self.select_days * spd
        window = x[max(cut - span - max(_steps_of(m, step_s) for m in self.members), 0) : cut]
        key = (cut_t, step_s, fingerprint(window))
        got = self._weights.get(key)
        if got is not None:
            return got
        ends = np.arange(cut - n_h, max(cut - span, n_h), -every)[::-1]
        origins = [int(e) for e in ends if e > spd]  # a day of history before each
        k = len(self.members)
        if len(origins) < self.MIN_ORIGINS:
            w = np.full(k, 1.0 / k)
        else:
            score = np.zeros(k)
            for j, m in enumerate(self.members):
                for e in origins:
                    err = self._replay(j, m, x, e, n_h, step_s) - x[e : e + n_h]
                    score[j] += float(np.mean((err - err.mean()) ** 2))
            score /= len(origins)
            best = max(float(score.min()), 1e-12)
            keep = score <= self.drop_above * best
            w = np.where(keep, 1.0 / np.maximum(score, 1e-12), 0.0)
            w /= w.sum()
            self._scores = score
        self._weights[key] = w
        while len(self._weights) > _KEEP:
            self._weights.popitem(last=False)
        return w

    def _replay(self, j: int, m: Forecaster, x: np.ndarray, e: int, n_h: int,
                step_s: float) -> np.ndarray:
        """Member ``j``'s forecast from sample ``e`` of ``x`` (kept, keyed by its input)."""
        assert self._origin is not None
        origin = self._origin - (x.size - e) * step_s  # sample x.size starts at the origin
        hist = x[max(e - _steps_of(m, step_s), 0) : e]
        key = (j, origin, step_s)
        fp = fingerprint(hist)
        kept = self._memo.get(key)
        if kept is not None and kept[0] == fp and kept[1].size >= n_h:
            return kept[1][:n_h]
        _refit(m, hist, origin, step_s, self._zone, self._source)
        row = np.maximum(m._predict(np.arange(n_h)), 0.0)
        self._memo[key] = (fp, row)
        return row


def _steps_of(m: Forecaster, step_s: float) -> int:
    return math.ceil(m.history_s / step_s)


def _refit(m: Forecaster, x: np.ndarray, origin: float, step_s: float, zone: str,
           source: str) -> None:
    """Fit member ``m`` on the regular history ``x`` that ends at ``origin``."""
    if x.size * step_s < DAY_S:
        raise BadInput(f"{m.name} needs at least one day of history to forecast")
    m._origin, m._step, m._zone, m._source = origin, step_s, zone, source
    m._fit(x[-_steps_of(m, step_s):], step_s)


def default_members() -> list[Forecaster]:
    """The ensemble's members when none are given: numpy only, no optional dependency."""
    return [SeasonalForecaster(), LinearForecaster(), AnalogForecaster()]


#: Forecasters by name, for the CLI and the simulator.
REGISTRY: dict[str, Callable[[], Forecaster]] = {
    "linear": LinearForecaster,
    "analog": AnalogForecaster,
    "ensemble": EnsembleForecaster,
}
