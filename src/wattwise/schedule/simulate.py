"""Replay a historical intensity trace over a set of jobs, without peeking.

Every decision is made on a forecast fitted on the trace strictly before the
moment it is made (``carbon.forecast_replay.ForecastReplay``: only periods that
have ended), optionally with simulated noise, and priced on what the trace
actually says. Two references, priced on the same trace: running at the job's
usual time (its nominal slot, or "run immediately"), and the oracle, the best
start with perfect knowledge on the same slots (Let's Wait Awhile's oracle,
Wiesner et al., Middleware 2021; for interruptible jobs the exact chunked optimum).

Three strategies:

- ``once``: the job is planned at submission (its earliest start) and not
  revisited, as Let's Wait Awhile plans.
- ``replan``: at every slot until it starts, the job is planned again on a fresh
  forecast; it starts when the plan says "now". A forecast a few hours ahead is
  far better than one a day ahead, so waiting for the next look costs nothing
  and often saves. (Interruptible jobs are planned once.)
- ``replan-lowest``: before the usual time, as ``replan`` but leaving early only
  where the forecast also puts now lowest of the rest of the window; from the
  usual time on the job starts at the first slot whose forecast is the lowest of
  the rest of its window (``lowest_now``), without the probability bar. Waiting
  is cheap once the next look is a slot away, and the bar, weighed against the
  errors over the whole window, kept jobs at a "now" the fresh forecast already
  saw beaten (BENCHMARKS.md, "Deciding differently": above ``replan`` in 11 of 15
  cells of the 2020 oracle setup, but in a minority of its first quarter).

Every decision (but ``replan-lowest``'s from the usual time on) uses the same
rule (``schedule.confidence.choose``): a job leaves its usual time only where the
forecast's own errors at the same time of day on the previous days give a
probability of saving carbon of at least ``p_min`` and a positive expected saving;
ties and flat forecasts keep the usual time.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, fields
from typing import Any, Literal

import numpy as np

from wattwise.carbon.forecast import FORECASTER_NAMES, Forecaster, make_forecaster
from wattwise.carbon.forecast_replay import (
    MIN_SCENARIOS,
    SCENARIO_DAYS,
    ForecastReplay,
    Noise,
    NoiseKind,
    window_means,
)
from wattwise.carbon.sources import IntensitySeries
from wattwise.errors import BadInput
from wattwise.schedule.confidence import P_MIN, TIE_REL, Choice, check_p_min, choose
from wattwise.schedule.jobs import Job, validate
from wattwise.schedule.planner import MIN_SAVING_PCT, Grid, baseline_g
from wattwise.schedule.scenarios import Scenario
from wattwise.schedule.search import single as _single

FORECASTERS = (*FORECASTER_NAMES, "perfect")
Strategy = Literal["once", "replan", "replan-lowest"]
STRATEGIES = ("once", "replan", "replan-lowest")


def forecaster_for(name: str) -> Forecaster | None:
    """The forecaster called ``name``; ``None`` for "perfect" (the trace itself)."""
    if name == "perfect":
        return None
    if name not in FORECASTER_NAMES:
        raise BadInput(f"unknown forecaster {name!r:.60}; choose one of {', '.join(FORECASTERS)}")
    return make_forecaster(name)


@dataclass(frozen=True)
class SimResult:
    """Emissions of one scenario on one trace: baseline, strategy and oracle (grams).

    All three are priced on the actual trace (``kind`` "simulated from trace"),
    for each job's power (1 kW unless the job says otherwise). ``n_moved`` jobs
    left their usual time; ``p_save_mean`` is the mean probability of saving the
    rule gave those moves (where it could) and ``moved_saved_pct`` the share of
    moves that did save on the actual trace, a check of that probability.
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
    #: What a move had to pass (the tie rule), in words, and in a few characters.
    tie_rule: str = ""
    move_bar: str = ""
    strategy: str = "once"
    noise_kind: str = "multiplicative"
    slot_s: float = 0.0
    n_moved: int = 0
    p_save_mean: float | None = None
    moved_saved_pct: float | None = None
    #: What the trace covers, and the stretch of it the jobs used (from the earliest
    #: job's earliest start to the last job's deadline), Unix seconds: the dates replayed.
    trace_start_unix_s: float = math.nan
    trace_end_unix_s: float = math.nan
    jobs_start_unix_s: float = math.nan
    jobs_end_unix_s: float = math.nan

    @property
    def jobs_days(self) -> float:
        """Length of the stretch the jobs used, in days."""
        return (self.jobs_end_unix_s - self.jobs_start_unix_s) / 86400.0

    @property
    def saving_pct(self) -> float:
        return 100.0 * (self.baseline_g - self.strategy_g) / self.baseline_g

    @property
    def optimum_saving_pct(self) -> float:
        return 100.0 * (self.baseline_g - self.optimum_g) / self.baseline_g

    @property
    def realised_pct(self) -> float:
        """Share of the oracle's saving the strategy realised (NaN if the oracle saves 0)."""
        best = self.baseline_g - self.optimum_g
        return 100.0 * (self.baseline_g - self.strategy_g) / best if best > 1e-9 else float("nan")

    def to_dict(self) -> dict[str, Any]:
        return {
            "scenario": self.scenario,
            "zone": self.zone,
            "forecaster": self.forecaster,
            "strategy": self.strategy,
            "noise_pct": self.noise_pct,
            "noise_kind": self.noise_kind,
            "slot_s": self.slot_s,
            "n_jobs": self.n_jobs,
            "baseline_g": self.baseline_g,
            "strategy_g": self.strategy_g,
            "optimum_g": self.optimum_g,
            "saving_pct": self.saving_pct,
            "optimum_saving_pct": self.optimum_saving_pct,
            "realised_pct": self.realised_pct,
            "n_moved": self.n_moved,
            "p_save_mean": self.p_save_mean,
            "moved_saved_pct": self.moved_saved_pct,
            "kind": "simulated from trace",
            "source": self.source,
            "wall_s": self.wall_s,
            "note": self.note,
            "tie_rule": self.tie_rule,
            "move_bar": self.move_bar,
            "trace_start_utc": _when(self.trace_start_unix_s),
            "trace_end_utc": _when(self.trace_end_unix_s),
            "jobs_start_utc": _when(self.jobs_start_unix_s),
            "jobs_end_utc": _when(self.jobs_end_unix_s),
            "jobs_days": round(self.jobs_days, 3) if math.isfinite(self.jobs_days) else None,
        }


def _when(t: float) -> str | None:
    """A time as ``YYYY-MM-DD HH:MM:SSZ``; None where it is not known."""
    from wattwise._userinput import format_time

    return format_time(t) if math.isfinite(t) else None


def actual_g(chunks: Sequence[tuple[float, float]], power_w: float, grid: Grid) -> float:
    """Emissions of running ``chunks`` at ``power_w``, priced on ``grid``."""
    return float(sum(grid.grams(a, b, power_w) for a, b in chunks))


def replay_for(forecaster: str, trace: IntensitySeries, *, noise_pct: float = 0.0,
               noise_kind: NoiseKind = "multiplicative", seed: int = 0,
               like: ForecastReplay | None = None) -> ForecastReplay:
    """The replay ``simulate`` makes; share one across scenarios of the same trace,
    forecaster and noise so every forecast is made once (``like``: a replay of the same
    forecaster and trace with other noise, whose forecasts this one reuses)."""
    noise = Noise(float(noise_pct), noise_kind, seed)
    if like is not None and like.series is trace and \
            (like.forecaster.name if like.forecaster else "perfect") == \
            (forecaster if forecaster == "perfect" else forecaster_for(forecaster).name):  # type: ignore[union-attr]
        return like.with_noise(noise)
    return ForecastReplay(forecaster_for(forecaster), trace, noise=noise)


def simulate(
    jobs: Sequence[Job] | Scenario,
    trace: IntensitySeries,
    *,
    forecaster: str = "ensemble",
    noise_pct: float = 0.0,
    noise_kind: NoiseKind = "multiplicative",
    seed: int = 0,
    strategy: Strategy = "once",
    slot_s: float | None = None,
    p_min: float = P_MIN,
    replay: ForecastReplay | None = None,
) -> SimResult:
    """Decide each job on forecasts made before each decision and price it on ``trace``.

    ``slot_s`` is the spacing of the starts a job may take (default: the trace's
    step), counted from its earliest start; its usual time is always one of them.
    ``replay`` (from ``replay_for`` with the same forecaster, noise and trace)
    shares forecasts across scenarios.
    """
    t0 = time.perf_counter()
    name, note = "jobs", ""
    if isinstance(jobs, Scenario):
        name, note, jobs = jobs.name, jobs.note, jobs.jobs
    if not jobs:
        raise BadInput(f"scenario {name!r} has no jobs inside the trace "
                       f"({trace.source}); use a longer trace or a shorter scenario")
    validate(jobs)
    if strategy not in STRATEGIES:
        raise BadInput(f"strategy must be one of {', '.join(STRATEGIES)}, got {strategy!r:.40}")
    p_min = check_p_min(p_min)
    noise = Noise(noise_pct, noise_kind, seed)
    slot = float(trace.step_s if slot_s is None else slot_s)
    if not (math.isfinite(slot) and 60.0 <= slot <= 86400.0):
        raise BadInput(f"a slot must be from 1 minute to 1 day, got {slot:g} s")
    if replay is None:
        replay = ForecastReplay(forecaster_for(forecaster), trace, noise=noise)
    elif replay.series is not trace or replay.noise != noise or \
            (replay.forecaster is None) != (forecaster == "perfect") or \
            (replay.forecaster is not None and
             replay.forecaster.name != forecaster_for(forecaster).name):  # type: ignore[union-attr]
        raise BadInput(f"the replay given is of {replay.name} on {replay.series.source}, not "
                       f"{forecaster} with {noise.describe()} on {trace.source}")
    real = Grid(trace)
    outside = [j.name for j in jobs if j.zones[0] != trace.zone or
               not real.covers(j.earliest_start_unix_s, j.deadline_unix_s)]
    if outside:
        raise BadInput(f"{len(outside)} job(s) not in zone {trace.zone} or outside the trace "
                       f"{trace.source}: {', '.join(outside[:10])}")
    tally = _Tally()
    notes = [note] if note else []
    for job in jobs:
        local = Job(**{**_fields(job), "zones": (trace.zone,)})
        if local.interruptible:
            _interruptible(local, real, replay, p_min, tally)
        else:
            _continuous(local, real, replay, p_min, slot, strategy, tally)
    if strategy != "once" and any(j.interruptible for j in jobs):
        notes.append("interruptible jobs are planned once, at submission")
    short, long = _tie_rule(replay, p_min, tally)
    return SimResult(name, trace.zone, forecaster, float(noise.pct), len(jobs), tally.base,
                     tally.strat, tally.best, time.perf_counter() - t0, trace.source,
                     "; ".join(notes), long, short, strategy, noise.kind, slot,
                     tally.moved, tally.p_mean(), tally.saved_pct(),
                     trace_start_unix_s=float(trace.start_unix_s),
                     trace_end_unix_s=float(trace.end_unix_s),
                     jobs_start_unix_s=min(float(j.earliest_start_unix_s) for j in jobs),
                     jobs_end_unix_s=max(float(j.deadline_unix_s) for j in jobs))


@dataclass
class _Tally:
    base: float = 0.0
    strat: float = 0.0
    best: float = 0.0
    moved: int = 0
    saved: int = 0
    p_sum: float = 0.0
    p_n: int = 0
    no_p: int = 0

    def add(self, base: float, strat: float, best: float, moved: bool,
            p: float | None) -> None:
        self.base += base
        self.strat += strat
        self.best += best
        if moved:
            self.moved += 1
            self.saved += strat < base - 1e-12
            if p is not None:
                self.p_sum += p
                self.p_n += 1

    def p_mean(self) -> float | None:
        return self.p_sum / self.p_n if self.p_n else None

    def saved_pct(self) -> float | None:
        return 100.0 * self.saved / self.moved if self.moved else None


def candidates(job: Job, slot_s: float) -> np.ndarray:
    """Starts on the slot grid from the earliest start to the latest, with the usual one."""
    n = math.floor((job.latest_start_unix_s - job.earliest_start_unix_s) / slot_s + 1e-9)
    s = job.earliest_start_unix_s + slot_s * np.arange(n + 1)
    return np.unique(np.append(s, job.baseline_start))


def _costs(replay: ForecastReplay, job: Job, starts: np.ndarray,
           origin: float) -> tuple[np.ndarray, np.ndarray | None]:
    """Forecast cost of each of ``starts`` on the forecast made at ``origin``, and the
    errors the scenarios put on them (None with no scenario)."""
    step = replay.step_s
    n = max(1, math.ceil((job.deadline_unix_s - origin) / step - 1e-9))
    offs = starts - origin
    fc = window_means(replay.forecast(origin, n), step, offs, job.duration_s)
    err = replay.scenarios(origin, n)
    return fc, window_means(err, step, offs, job.duration_s) if err.shape[0] else None


def _decide(replay: ForecastReplay, job: Job, starts: np.ndarray, origin: float, default: int,
            p_min: float) -> Choice:
    """The rule's choice among ``starts`` on the forecast made at ``origin``."""
    fc, err_cost = _costs(replay, job, starts, origin)
    return choose(fc, err_cost, default, p_min=p_min, min_saving_pct=MIN_SAVING_PCT)


def lowest_now(forecast_cost: np.ndarray) -> bool:
    """Whether the first start (now) costs, by the forecast, no more than every later
    one: ``replan-lowest``'s rule from the usual time on (a tie starts now)."""
    cost = np.asarray(forecast_cost, dtype=np.float64)
    if cost.ndim != 1 or cost.size == 0 or not np.all(np.isfinite(cost)):
        raise BadInput("forecast costs must be a non-empty row of finite numbers")
    tol = TIE_REL * max(abs(float(cost[0])), 1e-12)
    return cost.size == 1 or bool(cost[0] <= float(cost[1:].min()) + tol)


@dataclass(frozen=True)
class Decision:
    """Where one uninterrupted job started, and how sure the move away from its usual
    time was (``p_save``; None where it stayed or no probability could be had)."""

    start_unix_s: float
    moved: bool
    p_save: float | None


def decide(job: Job, replay: ForecastReplay, *, strategy: Strategy = "once",
           p_min: float = P_MIN, slot_s: float | None = None) -> Decision:
    """The start the strategy picks for one uninterrupted job, on ``replay``'s forecasts.

    ``once`` decides at the earliest start. ``replan`` decides again at every slot
    until it starts: before the usual time the default is the usual time, after it
    "now"; ``replan-lowest`` likewise before the usual time (leaving early only
    where the forecast also puts now lowest), and from it on starts when the
    forecast puts now lowest (``lowest_now``). A decision at slot ``t``
    reads only forecasts made at ``t`` (and their scenarios), so the start chosen
    never depends on data from the start on.
    """
    if strategy not in STRATEGIES:
        raise BadInput(f"strategy must be one of {', '.join(STRATEGIES)}, got {strategy!r:.40}")
    starts = candidates(job, float(replay.step_s if slot_s is None else slot_s))
    u = int(np.flatnonzero(starts == job.baseline_start)[0])
    p: float | None = None
    if strategy == "once":
        c = _decide(replay, job, starts, float(starts[0]), u, p_min)
        pick, p = c.index, c.p_save
    else:
        pick = starts.size - 1
        for j in range(starts.size - 1):
            if strategy == "replan-lowest" and j >= u:
                fc, _ = _costs(replay, job, starts[j:], float(starts[j]))
                if lowest_now(fc):
                    pick = j
                    break
                continue
            default = u - j if u >= j else 0
            c = _decide(replay, job, starts[j:], float(starts[j]), default, p_min)
            if j <= u and c.moved:
                p = c.p_save  # the decision that left the usual time, against it
            if c.index == 0 and (strategy == "replan" or c.n_scenarios < MIN_SCENARIOS or
                                 lowest_now(_costs(replay, job, starts[j:], float(starts[j]))[0])):
                pick = j
                break
    moved = pick != u
    return Decision(float(starts[pick]), moved, p if moved else None)


def _continuous(job: Job, real: Grid, replay: ForecastReplay, p_min: float, slot: float,
                strategy: str, tally: _Tally) -> None:
    starts = candidates(job, slot)
    u = int(np.flatnonzero(starts == job.baseline_start)[0])
    cost = np.asarray(real.grams(starts, starts + job.duration_s, job.power_w))
    d = decide(job, replay, strategy=strategy if strategy in STRATEGIES else "once",  # type: ignore[arg-type]
               p_min=p_min, slot_s=slot)
    pick = int(np.flatnonzero(starts == d.start_unix_s)[0])
    tally.add(float(cost[u]), float(cost[pick]), float(cost.min()), d.moved, d.p_save)


def _interruptible(job: Job, real: Grid, replay: ForecastReplay, p_min: float,
                   tally: _Tally) -> None:
    step = replay.step_s
    origin = job.earliest_start_unix_s
    n = max(1, math.ceil((job.deadline_unix_s - origin) / step - 1e-9))
    row = replay.forecast(origin, n)
    fc = IntensitySeries(origin + step * np.arange(n), np.array(row), replay.series.zone,
                         replay.name, "forecast", step)
    planned = _single(job, {job.home_zone: Grid(fc)})
    b = job.baseline_start
    options = [((b, b + job.duration_s),), planned.chunks]
    err = replay.scenarios(origin, n)
    fc_g = np.array([_chunk_mean(row[None, :], step, ch, origin)[0] for ch in options])
    err_g = np.stack([_chunk_mean(err, step, ch, origin) for ch in options], axis=1) \
        if err.shape[0] else None
    c = choose(fc_g, err_g, 0, p_min=p_min, min_saving_pct=MIN_SAVING_PCT)
    chosen = options[c.index]
    best = _single(job, {job.home_zone: real}).expected_g
    tally.add(baseline_g(job, real), actual_g(chosen, job.power_w, real), best, c.moved,
              c.p_save)


def _chunk_mean(rows: np.ndarray, step: float, chunks: Sequence[tuple[float, float]],
                origin: float) -> np.ndarray:
    """Time-weighted sum over ``chunks`` of each row (per row; proportional to grams)."""
    total = np.zeros(rows.shape[0])
    for a, b in chunks:
        total += window_means(rows, step, np.array([a - origin]), b - a)[..., 0] * (b - a)
    return total


def _tie_rule(replay: ForecastReplay, p_min: float, tally: _Tally) -> tuple[str, str]:
    """``(short, long)``: what a move had to pass across the simulated decisions."""
    if replay.forecaster is None and replay.noise.pct == 0:
        return ("any saving", "any saving moved a job: the noiseless perfect forecast is never "
                "wrong, so every move it makes saves (P = 1)")
    return (f"P(save) >= {p_min:g}",
            f"a job moved only where the forecast's own errors at the same time of day on "
            f"the previous {SCENARIO_DAYS} days gave a probability of saving carbon of at least "
            f"{p_min:g} and a positive expected saving; with under {MIN_SCENARIOS} such days "
            f"(the first days of a trace) only for a forecast saving above {MIN_SAVING_PCT:g} % "
            "of running at the usual time")


def _fields(job: Job) -> dict[str, Any]:
    return {f.name: getattr(job, f.name) for f in fields(job)}
