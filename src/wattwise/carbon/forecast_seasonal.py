"""The statistical forecasters: persistence baselines and the seasonal profile model.

- ``PersistenceForecaster("last")``: the last value holds (best at 1 h).
- ``PersistenceForecaster("yesterday")``: the same time on the last observed
  day (the classic daily-seasonal naive baseline).
- ``SeasonalForecaster``: a recent level plus a time-of-day profile
  (exponentially weighted over the last two weeks) blended with a
  time-of-week profile (the last four weeks), plus the current departure
  from that baseline carried forward by how much such departures persisted
  at each lead in the training window. All numpy, well under a millisecond
  per fit.
"""

from __future__ import annotations

from typing import Literal

import numpy as np

from wattwise.carbon.forecast_base import DAY_S, WEEK_S, Forecaster
from wattwise.errors import BadInput


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
