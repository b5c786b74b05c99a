"""What forecast skill the timing targets need: the oracle setup on a noisy perfect forecast.

    .venv/bin/python benchmarks/bench_forecast_skill.py [--only mape,acf,smooth]
        [--noise 7,10,22] [--corr-h 16,4] [--zones DE,GB,FR]

The oracle setup (a 30-minute job due at 01:00 UTC every day of 2020, starts on a
30-minute grid within ±1/2/4/8/12 h, replanned at every slot) decided on the actual
trace plus additive noise (a share of the trace's mean, as Let's Wait Awhile adds).
``wattwise simulate --forecaster perfect --noise N`` draws that noise independently
for every target time; real forecast errors are smooth in time, so this script also
draws it as a stationary AR(1) process with correlation time ``--corr-h`` (the same
marginal spread, so the same MAPE) and measures:

- ``mape``: the MAPE of the noisy forecast against the trace, per zone and level
  (what a noise level means next to published forecast errors);
- ``acf``: how smooth the ensemble's own errors are: the correlation of its error at
  lead ``h`` with its error at lead ``h + lag`` (day-ahead forecasts from 13:00 UTC
  every third day of 2020), the shape the AR(1) draws imitate;
- ``smooth``: the share of the oracle's saving the ``replan`` strategy realises on
  the trace plus that smooth noise (``--corr-h 0``: independent draws, the same
  numbers as ``wattwise simulate``).

Prints JSON lines; BENCHMARKS.md ("What forecast skill the targets need") has the
tables. The noisy "forecast" reads the future by construction: it is a yardstick of
forecast quality, not a forecaster.
"""

from __future__ import annotations

import argparse
import json
import math
import time
from datetime import datetime, timezone

import numpy as np

from wattwise.carbon.forecast_base import Forecaster
from wattwise.carbon.forecast_replay import ForecastReplay
from wattwise.carbon.sources import IntensitySeries
from wattwise.carbon.traces import TraceSource
from wattwise.schedule.planner import Grid
from wattwise.schedule.scenarios import nightly
from wattwise.schedule.simulate import candidates, decide, replay_for

Y0 = datetime(2020, 1, 1, tzinfo=timezone.utc).timestamp()
Y1 = datetime(2021, 1, 1, tzinfo=timezone.utc).timestamp()
FLEX_H = (1, 2, 4, 8, 12)
SLOT_S = 1800.0


def draws(n: int, pct: float, corr_h: float, step_s: float, seed: int = 0) -> np.ndarray:
    """``n`` draws of N(0, pct %) on the trace's grid: independent (``corr_h`` 0) or a
    stationary AR(1) with correlation ``exp(-lag / corr_h)`` (seeded as simulate seeds)."""
    w = np.random.default_rng(seed).normal(0.0, 1.0, n)
    if corr_h <= 0:
        return w * pct / 100.0
    rho = math.exp(-step_s / (corr_h * 3600.0))
    e = np.empty(n)
    e[0] = w[0]
    for i in range(1, n):
        e[i] = rho * e[i - 1] + math.sqrt(1.0 - rho * rho) * w[i]
    return e * pct / 100.0


class NoisyTrace(Forecaster):
    """The trace itself plus fixed additive noise per target time (reads the future)."""

    name = "noisy-trace"

    def __init__(self, series: IntensitySeries, noise: np.ndarray) -> None:
        super().__init__()
        self.series = series
        self.noise = noise
        self.scale = float(np.mean(series.g_per_kwh))
        self.truth = ForecastReplay(None, series)

    def forecast_many(self, series: IntensitySeries, origins_unix_s: np.ndarray,
                      n_steps: int) -> np.ndarray:
        step = float(series.step_s)
        out = np.empty((len(origins_unix_s), int(n_steps)))
        for k, o in enumerate(np.asarray(origins_unix_s, dtype=np.float64)):
            m = np.round((o + step * np.arange(n_steps) - series.start_unix_s) / step)
            e = self.noise[np.clip(m.astype(np.int64), 0, self.noise.size - 1)]
            out[k] = np.maximum(self.truth.actual(float(o), int(n_steps)) + e * self.scale, 0.0)
        return out

    def _fit(self, x: np.ndarray, step_s: float) -> None:  # pragma: no cover - unused
        raise NotImplementedError

    def _predict(self, lead: np.ndarray) -> np.ndarray:  # pragma: no cover - unused
        raise NotImplementedError


def grid_size(s: IntensitySeries) -> int:
    return math.ceil((s.end_unix_s - s.start_unix_s) / s.step_s) + 1


def mape(zone: str, pcts: list[float], corr_h: float) -> dict[str, float]:
    """MAPE (%) of the trace plus the noise against the trace, at its own samples."""
    s = TraceSource.for_zone(zone).full_series
    x = np.asarray(s.g_per_kwh, dtype=np.float64)
    idx = np.round((s.t_unix_s - s.start_unix_s) / s.step_s).astype(np.int64)
    out = {}
    for p in pcts:
        e = draws(grid_size(s), p, corr_h, s.step_s)[np.clip(idx, 0, grid_size(s) - 1)]
        noisy = np.maximum(x + e * float(np.mean(x)), 0.0)
        out[f"{p:g}"] = round(100.0 * float(np.mean(np.abs(noisy - x) / x)), 2)
    return out


def acf(zone: str) -> dict[str, float]:
    """Correlation of the ensemble's day-ahead error at leads ``h`` and ``h + lag``."""
    s = TraceSource.for_zone(zone).full_series
    rep = replay_for("ensemble", s)
    n = int(86400.0 / rep.step_s)
    rows = []
    for d in range(14, 366, 3):
        o = Y0 + (d - 1) * 86400.0 + 13 * 3600.0
        if o + (n + 1) * rep.step_s > s.end_unix_s:
            break
        rows.append(rep.forecast(o, n) - rep.actual(o, n))
    err = np.array(rows)
    out = {}
    for lag_h in (0.5, 1, 2, 4, 8):
        k = int(lag_h * 3600.0 / rep.step_s)
        out[f"{lag_h:g} h"] = round(float(np.corrcoef(err[:, :-k].ravel(),
                                                       err[:, k:].ravel())[0, 1]), 3)
    return out


def smooth(zone: str, pct: float, corr_h: float) -> dict[str, float]:
    """Share of the oracle's saving (%) realised by ``replan`` on the trace plus noise."""
    s = TraceSource.for_zone(zone).full_series
    rep = ForecastReplay(NoisyTrace(s, draws(grid_size(s), pct, corr_h, s.step_s)), s)
    real = Grid(s)
    out = {}
    for f in FLEX_H:
        base = best = got = 0.0
        for job in nightly(zone, f, Y0, Y1, duration_h=0.5, utc=True).jobs:
            starts = candidates(job, SLOT_S)
            cost = np.asarray(real.grams(starts, starts + job.duration_s, job.power_w))
            u = int(np.flatnonzero(starts == job.baseline_start)[0])
            d = decide(job, rep, strategy="replan", slot_s=SLOT_S)
            base += float(cost[u])
            best += float(cost.min())
            got += float(cost[int(np.flatnonzero(starts == d.start_unix_s)[0])])
        out[f"±{f} h"] = round(100.0 * (base - got) / (base - best), 1)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", default="mape,acf,smooth")
    ap.add_argument("--noise", default="7,10,22", help="additive noise, % of the trace's mean")
    ap.add_argument("--corr-h", default="16,4", help="AR(1) correlation times, hours")
    ap.add_argument("--zones", default="DE,GB,FR")
    a = ap.parse_args()
    parts = a.only.split(",")
    pcts = [float(x) for x in a.noise.split(",")]
    taus = [float(x) for x in a.corr_h.split(",")]
    for z in a.zones.split(","):
        if "acf" in parts:
            print(json.dumps({"zone": z, "part": "acf", "corr": acf(z)}), flush=True)
        for tau in taus:
            if "mape" in parts:
                print(json.dumps({"zone": z, "part": "mape", "corr_h": tau,
                                  "mape_pct": mape(z, pcts, tau)}), flush=True)
            if "smooth" in parts:
                for p in pcts:
                    t0 = time.perf_counter()
                    r = smooth(z, p, tau)
                    print(json.dumps({"zone": z, "part": "smooth", "noise_pct": p, "corr_h": tau,
                                      "realised_pct": r, "s": round(time.perf_counter() - t0, 1)}),
                          flush=True)


if __name__ == "__main__":
    main()
