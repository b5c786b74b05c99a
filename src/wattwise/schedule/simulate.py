"""Replay a historical intensity trace over a set of jobs, without peeking.

For each job, at its submission time (its earliest start), a forecaster is
fitted on the trace strictly before that time (``forecast_at``: only periods
that have ended), optionally perturbed by multiplicative noise, and the job is
planned on that forecast. The plan is then priced on what the trace actually
says. Two references, priced on the same trace: running at the job's baseline
time ("run immediately", or the nominal slot), and the perfect-knowledge
optimum (the plan made on the trace itself). Decisions are made once, at
submission; a job is not replanned while it runs. As in ``plan``, a job moves
only for a forecast saving above the forecast's error (``hold_if_marginal``):
the forecaster's own error, measured at each submission by replaying it (with
the same noise) on the trace before that time (``carbon.forecast.Backtest``),
none for the noiseless perfect forecast, and the 1 % threshold for a noisy one.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from wattwise.carbon.forecast import (
    BACKTEST_DAYS,
    Backtest,
    Forecaster,
    PersistenceForecaster,
    SeasonalForecaster,
    forecast_at,
    with_noise,
)
from wattwise.carbon.sources import IntensitySeries
from wattwise.errors import BadInput
from wattwise.schedule.jobs import Job, validate
from wattwise.schedule.planner import (
    MIN_SAVING_PCT,
    Grid,
    _single,
    baseline_g,
    hold_if_marginal,
)
from wattwise.schedule.scenarios import Scenario

FORECASTERS = ("seasonal", "persistence-yesterday", "persistence-last", "perfect")


def make_forecaster(name: str) -> Forecaster | None:
    """The forecaster called ``name``; ``None`` for "perfect" (the trace itself)."""
    if name == "seasonal":
        return SeasonalForecaster()
    if name == "persistence-yesterday":
        return PersistenceForecaster("yesterday")
    if name == "persistence-last":
        return PersistenceForecaster("last")
    if name == "perfect":
        return None
    raise BadInput(f"unknown forecaster {name!r}; choose one of {', '.join(FORECASTERS)}")


@dataclass(frozen=True)
class SimResult:
    """Emissions of one scenario on one trace: baseline, strategy and optimum (grams).

    All three are priced on the actual trace (``kind`` "simulated from trace"),
    for each job's power (1 kW unless the job says otherwise).
    """

    scenario: str
    zone: str
    forecaster: str
    noise_pct: float
    n_jobs: int
    baseline_g: float
    strategy_g: float
    optimum_g: float
    wall_s: float
    source: str
    note: str = ""
    #: What a move had to beat (the tie rule), in words, and in a few characters.
    tie_rule: str = ""
    move_bar: str = ""

    @property
    def saving_pct(self) -> float:
        return 100.0 * (self.baseline_g - self.strategy_g) / self.baseline_g

    @property
    def optimum_saving_pct(self) -> float:
        return 100.0 * (self.baseline_g - self.optimum_g) / self.baseline_g

    @property
    def realised_pct(self) -> float:
        """Share of the optimum's saving the strategy realised (NaN if the optimum saves 0)."""
        best = self.baseline_g - self.optimum_g
        return 100.0 * (self.baseline_g - self.strategy_g) / best if best > 1e-9 else float("nan")

    def to_dict(self) -> dict[str, Any]:
        return {
            "scenario": self.scenario,
            "zone": self.zone,
            "forecaster": self.forecaster,
            "noise_pct": self.noise_pct,
            "n_jobs": self.n_jobs,
            "baseline_g": self.baseline_g,
            "strategy_g": self.strategy_g,
            "optimum_g": self.optimum_g,
            "saving_pct": self.saving_pct,
            "optimum_saving_pct": self.optimum_saving_pct,
            "realised_pct": self.realised_pct,
            "kind": "simulated from trace",
            "source": self.source,
            "wall_s": self.wall_s,
            "note": self.note,
            "tie_rule": self.tie_rule,
            "move_bar": self.move_bar,
        }


def actual_g(chunks: Sequence[tuple[float, float]], power_w: float, grid: Grid) -> float:
    """Emissions of running ``chunks`` at ``power_w``, priced on ``grid``."""
    return float(sum(grid.grams(a, b, power_w) for a, b in chunks))


def simulate(
    jobs: Sequence[Job] | Scenario,
    trace: IntensitySeries,
    *,
    forecaster: str = "seasonal",
    noise_pct: float = 0.0,
    seed: int = 0,
    backtest: Backtest | None = None,
) -> SimResult:
    """Plan each job on a forecast made at its submission and price it on ``trace``.

    ``backtest`` (of the same forecaster on ``trace``) measures each forecast's own
    error; pass one to share its replays across scenarios and noise levels.
    """
    t0 = time.perf_counter()
    name, note = "jobs", ""
    if isinstance(jobs, Scenario):
        name, note, jobs = jobs.name, jobs.note, jobs.jobs
    if not jobs:
        raise BadInput(f"scenario {name!r} has no jobs inside the trace "
                       f"({trace.source}); use a longer trace or a shorter scenario")
    validate(jobs)
    if not noise_pct >= 0:
        raise BadInput(f"noise must be >= 0 %, got {noise_pct}")
    fc_maker = make_forecaster(forecaster)
    real = Grid(trace)
    outside = [j.name for j in jobs if j.zones[0] != trace.zone or
               not real.covers(j.earliest_start_unix_s, j.deadline_unix_s)]
    if outside:
        raise BadInput(f"{len(outside)} job(s) not in zone {trace.zone} or outside the trace "
                       f"{trace.source}: {', '.join(outside[:10])}")
    rng = np.random.default_rng(seed)
    if fc_maker is None:
        backtest = None
    elif backtest is None:
        backtest = Backtest(fc_maker, trace)
    elif backtest.series is not trace or backtest.forecaster.name != fc_maker.name:
        raise BadInput(f"the backtest given replays {backtest.forecaster.name} on "
                       f"{backtest.series.source}, not {fc_maker.name} on {trace.source}")
    base = strat = best = 0.0
    bars: list[float] = []
    unknown = 0
    for job in jobs:
        local = Job(**{**_fields(job), "zones": (trace.zone,)})
        opt = _single(local, {trace.zone: real})
        error: float | None = None
        if fc_maker is None or backtest is None:
            fc_grid = real if noise_pct == 0 else Grid(with_noise(
                _window(trace, job), noise_pct / 100.0, rng))
            error = 0.0 if noise_pct == 0 else None
        else:
            horizon = job.deadline_unix_s - job.earliest_start_unix_s
            fc = forecast_at(fc_maker, trace, job.earliest_start_unix_s, horizon, error=False)
            fc_grid = Grid(with_noise(fc, noise_pct / 100.0, rng) if noise_pct else fc)
            measured = backtest.error(job.earliest_start_unix_s, horizon,
                                      noise_sigma=noise_pct / 100.0, seed=seed)
            error = None if measured is None else measured.difference_mae_g_per_kwh
        # As ``plan`` does: move only for a saving beyond the forecast's error, else
        # the relative threshold.
        if error is None:
            unknown += 1
        else:
            bars.append(error)
        chosen = hold_if_marginal(_single(local, {trace.zone: fc_grid}), error_g_per_kwh=error)
        base += baseline_g(local, real)
        strat += actual_g(chosen.chunks, job.power_w, real)
        best += opt.expected_g
    days = backtest.days if backtest is not None else BACKTEST_DAYS
    short, long = _tie_rule(forecaster, noise_pct, bars, unknown, days)
    return SimResult(name, trace.zone, forecaster, noise_pct, len(jobs), base, strat, best,
                     time.perf_counter() - t0, trace.source, note, long, short)


def _tie_rule(forecaster: str, noise_pct: float, bars: list[float], unknown: int,
              days: float) -> tuple[str, str]:
    """``(short, long)``: what a move had to beat across the simulated decisions."""
    if forecaster == "perfect" and noise_pct == 0:
        return "0", "any saving moved a job: the noiseless perfect forecast has no error"
    short, parts = [], []
    if bars:
        noise = f" with its {noise_pct:g} % noise" if noise_pct else ""
        med = float(np.median(bars))
        short.append(f"{med:.3g} g/kWh")
        parts.append(
            f"in {len(bars)} decision(s) the forecast's own error: the mean error of a "
            f"difference between two hours when {forecaster}{noise} was replayed over the "
            f"{days:g} days before each (median {med:.3g}, {min(bars):.3g} to "
            f"{max(bars):.3g} gCO2eq/kWh)")
    if unknown:
        why = ("the noisy perfect forecast has no backtest" if forecaster == "perfect"
               else "too little history before them to measure an error")
        short.append(f"{MIN_SAVING_PCT:g} %" + (f" in {unknown}" if bars else ""))
        parts.append(f"in {unknown} decision(s) {MIN_SAVING_PCT:g} % of running at the usual "
                     f"time ({why})")
    return ", ".join(short), "a job moved only for a forecast saving above: " + "; ".join(parts)


def _fields(job: Job) -> dict[str, Any]:
    from dataclasses import fields

    return {f.name: getattr(job, f.name) for f in fields(job)}


def _window(trace: IntensitySeries, job: Job) -> IntensitySeries:
    """The trace's samples over a job's window (the "perfect" forecast, before noise)."""
    t = trace.t_unix_s
    lo = max(int(np.searchsorted(t, job.earliest_start_unix_s, side="right")) - 1, 0)
    hi = int(np.searchsorted(t, job.deadline_unix_s, side="left")) + 1
    return IntensitySeries(t[lo:hi], trace.g_per_kwh[lo:hi], trace.zone, trace.source,
                           "trace", trace.step_s)
