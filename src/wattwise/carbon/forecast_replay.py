"""Replaying a forecaster over a trace: forecasts from many origins, kept, and their errors.

A scheduler replayed over a year asks for a forecast at every moment it decides
(and, to weigh a decision, for the forecasts it would have had at the same time
of day on the days before). ``ForecastReplay`` keeps each forecast by origin so
nothing is fitted twice, adds simulated noise where asked, and gives for any
origin the *scenarios* of its error: what the same forecaster got wrong at the
same time of day on each of the previous days, every one of them scored only on
values that had ended by the origin. A decision can then be priced under each
scenario (the forecast minus one day's error), which gives both the probability
that a move saves carbon and the expected saving, with no assumption on the
error's distribution, and quantile forecasts that are as wide as the past
errors were.

``forecaster=None`` replays the trace itself (a perfect forecast), so the same
machinery reproduces the perfect-knowledge optimum and, with noise, the
Let's-Wait-Awhile setup (Wiesner et al., Middleware 2021: the actual trace plus
normal noise whose standard deviation is a share of the trace's mean).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

from wattwise.carbon.forecast_base import DAY_S, Forecaster
from wattwise.carbon.sources import IntensitySeries
from wattwise.errors import BadInput

NoiseKind = Literal["multiplicative", "additive"]
#: Days of same-time-of-day replays behind a decision's error scenarios.
SCENARIO_DAYS = 28
#: Fewest scenarios that make a probability; with fewer a decision has none.
MIN_SCENARIOS = 4
#: Least span a kept forecast covers, so decisions with different deadlines from the
#: same origin share one forecast instead of refitting for a longer one.
MIN_ROW_S = 2 * DAY_S
#: Scenario matrices kept (a few MB): strategies replayed one after another share them.
SCENARIOS_KEPT = 512


@dataclass(frozen=True)
class Noise:
    """Simulated forecast noise: ``pct`` % of the value (multiplicative, ``× (1 + N(0, σ))``)
    or of the trace's mean (additive, ``+ N(0, σ · mean)``, as Let's-Wait-Awhile adds).

    One draw per target time (seeded), so every forecast of the same instant carries the
    same error, as a provider's systematically wrong forecast would.
    """

    pct: float = 0.0
    kind: NoiseKind = "multiplicative"
    seed: int = 0

    def __post_init__(self) -> None:
        if isinstance(self.pct, bool) or not (isinstance(self.pct, (int, float))
                                               and math.isfinite(self.pct) and self.pct >= 0):
            raise BadInput(f"noise must be a finite number >= 0 %, got {self.pct!r:.40}")
        if self.kind not in ("multiplicative", "additive"):
            raise BadInput(f"noise kind must be multiplicative or additive, got "
                           f"{self.kind!r:.40}")
        if isinstance(self.seed, bool) or not isinstance(self.seed, int) or self.seed < 0:
            raise BadInput(f"a noise seed must be a whole number >= 0, got {self.seed!r:.40}")

    def describe(self) -> str:
        if self.pct == 0:
            return "no noise"
        what = "of the value" if self.kind == "multiplicative" else "of the trace's mean"
        return f"{self.kind} noise N(0, {self.pct:g} % {what})"


class ForecastReplay:
    """Forecasts of ``forecaster`` on ``series`` from any origin, kept by origin.

    Values are on the series' step from each origin (``origin + j · step``).
    Noise is drawn once over the series' grid and added to every forecast of the
    same instant. ``scenarios`` gives the errors used to weigh decisions.
    """

    def __init__(self, forecaster: Forecaster | None, series: IntensitySeries, *,
                 noise: Noise | None = None) -> None:
        import copy

        self.forecaster = None if forecaster is None else copy.deepcopy(forecaster)
        self.series = series
        self.noise = noise or Noise()
        self.step_s = float(series.step_s)
        self._memo: dict[float, np.ndarray] = {}
        self._clean_memo: dict[float, np.ndarray] = {}
        t0 = series.start_unix_s
        self._t0 = t0
        n = math.ceil((series.end_unix_s - t0) / self.step_s) + 1
        self._draw = np.zeros(n)
        if self.noise.pct > 0:
            gen = np.random.default_rng(self.noise.seed)
            self._draw = gen.normal(0.0, self.noise.pct / 100.0, size=n)
        self.scale_g_per_kwh = float(np.mean(series.g_per_kwh))
        # The step reading on the series' grid from its start, for actual() on grid origins.
        tt = t0 + self.step_s * np.arange(n)
        idx = np.clip(np.searchsorted(series.t_unix_s, tt + 1e-6, side="right") - 1, 0,
                      len(series) - 1)
        self._reading = np.asarray(series.g_per_kwh, dtype=np.float64)[idx]
        self._scen: dict[tuple[float, int, int], np.ndarray] = {}

    @property
    def name(self) -> str:
        base = "perfect" if self.forecaster is None else self.forecaster.name
        return base if self.noise.pct == 0 else f"{base} + {self.noise.describe()}"

    def actual(self, origin_unix_s: float, n_steps: int) -> np.ndarray:
        """The series' step reading at ``origin + j · step``, ``j < n_steps``."""
        m = (origin_unix_s - self._t0) / self.step_s
        k = round(m)
        if abs(m - k) < 1e-9 and k >= 0 and k + n_steps <= self._reading.size:
            return self._reading[k : k + n_steps]
        t = origin_unix_s + self.step_s * np.arange(n_steps)
        s = self.series
        idx = np.clip(np.searchsorted(s.t_unix_s, t + 1e-6, side="right") - 1, 0, len(s) - 1)
        return np.asarray(s.g_per_kwh, dtype=np.float64)[idx]

    def forecast(self, origin_unix_s: float, n_steps: int) -> np.ndarray:
        """The (noisy) forecast from ``origin``: ``n_steps`` values (a read-only view)."""
        kept = self._memo.get(origin_unix_s)
        if kept is None or kept.size < n_steps:
            n_steps_fit = max(n_steps, math.ceil(MIN_ROW_S / self.step_s))
            row = self._clean(origin_unix_s, n_steps_fit)
            if self.noise.pct > 0:
                m = np.round((origin_unix_s + self.step_s * np.arange(row.size) - self._t0)
                             / self.step_s).astype(np.int64)
                e = self._draw[np.clip(m, 0, self._draw.size - 1)]
                row = row * (1.0 + e) if self.noise.kind == "multiplicative" else \
                    row + e * self.scale_g_per_kwh
                row = np.maximum(row, 0.0)
            row.setflags(write=False)
            self._memo[origin_unix_s] = kept = row
        return kept[:n_steps]

    def _clean(self, origin: float, n_steps: int) -> np.ndarray:
        if self.forecaster is None:
            return self.actual(origin, n_steps).copy()
        kept = self._clean_memo.get(origin)
        if kept is None or kept.size < n_steps:
            kept = self.forecaster.forecast_many(self.series, np.array([origin]), n_steps)[0]
            self._clean_memo[origin] = kept
        return kept[:n_steps].copy()

    def with_noise(self, noise: Noise) -> ForecastReplay:
        """The same forecaster on the same series with other noise, sharing the forecasts
        already made (noise is added on top of them)."""
        other = ForecastReplay(None, self.series, noise=noise)
        other.forecaster = self.forecaster
        other._clean_memo = self._clean_memo
        return other

    def scenario_origins(self, origin_unix_s: float, n_steps: int,
                         days: int = SCENARIO_DAYS) -> np.ndarray:
        """Origins at the same time of day on earlier days whose forecast span of
        ``n_steps`` had ended by ``origin`` and that had a day of history before them."""
        span = n_steps * self.step_s
        first = max(1, math.ceil(span / DAY_S - 1e-9))
        o = origin_unix_s - DAY_S * np.arange(first, first + days)
        return o[o - self.step_s >= self.series.start_unix_s + DAY_S]

    def scenarios(self, origin_unix_s: float, n_steps: int,
                  days: int = SCENARIO_DAYS) -> np.ndarray:
        """Errors (forecast minus actual), one row per earlier day, ``n_steps`` each:
        how the forecast from ``origin`` may be wrong. Reads nothing after ``origin``."""
        key = (origin_unix_s, n_steps, days)
        kept = self._scen.get(key)
        if kept is not None:
            return kept
        rows = []
        for o in self.scenario_origins(origin_unix_s, n_steps, days).tolist():
            try:
                rows.append(self.forecast(o, n_steps) - self.actual(o, n_steps))
            except BadInput:  # too little history there: that day gives no scenario
                continue
        out = np.array(rows).reshape(len(rows), n_steps)
        out.setflags(write=False)
        if len(self._scen) >= SCENARIOS_KEPT:
            self._scen.pop(next(iter(self._scen)))  # the oldest: a replay moves forward
        self._scen[key] = out
        return out

    def quantiles(self, origin_unix_s: float, n_steps: int, qs: Sequence[float],
                  days: int = SCENARIO_DAYS) -> np.ndarray | None:
        """Quantile forecasts (one row per ``q``): the forecast minus the ``1 - q``
        quantile of its past errors at each lead; None with under ``MIN_SCENARIOS``."""
        if not all(0 < q < 1 for q in qs):
            raise BadInput(f"quantiles must lie strictly between 0 and 1, got {list(qs)}")
        err = self.scenarios(origin_unix_s, n_steps, days)
        if err.shape[0] < MIN_SCENARIOS:
            return None
        fc = self.forecast(origin_unix_s, n_steps)
        return np.maximum(fc[None, :] - np.quantile(err, [1.0 - q for q in qs], axis=0), 0.0)


def window_means(rows: np.ndarray, step_s: float, starts_s: np.ndarray,
                 duration_s: float) -> np.ndarray:
    """Mean of each row's step function over ``[s, s + duration)`` for each offset ``s``
    (seconds from the row's first value): shape ``rows.shape[:-1] + starts.shape``."""
    cum = np.concatenate([np.zeros((*rows.shape[:-1], 1)), np.cumsum(rows, axis=-1)], axis=-1)
    n = rows.shape[-1]

    def at(pos_s: np.ndarray) -> np.ndarray:
        p = np.clip(pos_s / step_s, 0.0, float(n))
        i = np.minimum(np.floor(p).astype(np.int64), n - 1)
        frac = p - i
        return cum[..., i] + frac * (cum[..., i + 1] - cum[..., i])

    s = np.asarray(starts_s, dtype=np.float64)
    return (at(s + duration_s) - at(s)) * step_s / duration_s
