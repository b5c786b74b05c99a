"""Plan jobs against intensity forecasts: when (and where) each one runs.

Methods, picked by ``plan(..., method="auto")``:

- ``exact``: no capacity limit, so every job is independent. A non-interruptible
  job takes the window of lowest integrated intensity (a step function's
  window integral is piecewise linear in the start time, so the minimum lies at
  the earliest or latest start or where the window's start or end meets a
  sample boundary: those candidates are all checked). An interruptible job
  takes whole slots of the forecast grid: the cheapest slots when chunks may be
  one slot long and resuming is free, otherwise a dynamic programme over the
  slots that enforces the minimum chunk and charges the resume cost.
- ``milp``: capacity per zone and slot, shared by all jobs; solved by HiGHS
  through ``scipy.optimize.milp``, exact up to its gap tolerance. A
  non-interruptible job is a 0/1 choice of (zone, start); an interruptible one
  has a run variable per slot with chunk-start indicators for the minimum chunk
  and the resume cost (``wattwise.schedule.capacity``).
- ``greedy``: the same problem for batches too large for the solver: least
  flexible jobs first, each takes its cheapest start (or, interruptible, its
  cheapest chunks) that still fits; a job that fits nowhere is placed by moving
  jobs out of its way (then other orders, then a bounded search for small
  batches), and displaced jobs are improved (``capacity.greedy``). Its gap is
  reported against the capacity-free optimum, a lower bound of the true one.

A job occupies every slot of the zone's grid its run overlaps, for capacity.
Planning returns a ``Plan``; executing it is an ``Executor``'s job.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal

import numpy as np

from wattwise._userinput import format_time
from wattwise.carbon.sources import IntensitySeries
from wattwise.errors import BadInput
from wattwise.schedule.jobs import Job, validate
from wattwise.schedule.placement import NodeEnergy, Offer, at, collapse, split_site

Method = Literal["auto", "exact", "milp", "greedy"]
#: Above this many 0/1 variables ``auto`` uses the greedy heuristic (see BENCHMARKS).
MILP_MAX_VARS = 20_000
#: The same with interruptible jobs, whose chunk constraints make the MILP far harder.
MILP_MAX_VARS_INTERRUPTIBLE = 5_000
_EPS = 1e-6
#: Most slots one zone's forecast may have on its finest step (a year of minutes is 527,040).
MAX_SLOTS = 2_000_000
#: Most cells of the chunk search of one interruptible job (slots x states x work done).
MAX_DP_CELLS = 50_000_000
#: Least forecast saving, in % of running at the usual time, that moves a job when the
#: forecast carries no error estimate of its own: below it a "saving" is a tie or noise
#: (a flat forecast makes every start equal, and the earliest would win for nothing).
MIN_SAVING_PCT = 1.0


@dataclass(frozen=True)
class Assignment:
    """Where and when one job runs, and what it is expected to emit."""

    job: Job
    zone: str
    chunks: tuple[tuple[float, float], ...]
    expected_g: float
    baseline_g: float
    note: str = ""
    #: Probability that the move saves carbon, from the forecast's replayed errors
    #: (None where the job did not move or the forecast carries no error scenarios).
    p_save: float | None = None
    #: The node type it runs on, where the plan was told what the cluster offers ("" else).
    node: str = ""

    @property
    def energy(self) -> NodeEnergy | None:
        """The job's energy and duration on its node type, with their source (None where
        the job gives no figure for it)."""
        return self.job.nodes.get(self.node) if self.node else None

    @property
    def start_unix_s(self) -> float:
        return self.chunks[0][0]

    @property
    def end_unix_s(self) -> float:
        return self.chunks[-1][1]

    def to_dict(self) -> dict[str, Any]:
        out = {
            "job": self.job.name,
            "zone": self.zone,
            "chunks": [list(c) for c in self.chunks],
            "expected_g": self.expected_g,
            "baseline_g": self.baseline_g,
            "note": self.note,
            "p_save": self.p_save,
        }
        if self.node:
            e = self.energy
            out["node"] = self.node
            out["energy"] = e.to_dict() if e is not None else {
                "energy_j": self.job.power_w * self.job.duration_s,
                "duration_s": self.job.duration_s, "power_w": self.job.power_w,
                "source": "the job's own power and duration (no figure for this node type)",
                "kind": "measured" if self.job.power_given else "estimated"}
        return out


@dataclass(frozen=True)
class Plan:
    """A schedule with its expected emissions against running every job immediately.

    ``expected_g`` and ``baseline_g`` are estimates from the forecasts the plan
    was made with (``sources``; ``zone_sources``: which zone's was which).
    ``lower_bound_g`` is the capacity-free optimum; ``gap_pct`` how far
    ``expected_g`` may be above the true optimum.
    """

    assignments: tuple[Assignment, ...]
    method: str
    expected_g: float
    baseline_g: float
    lower_bound_g: float
    gap_pct: float
    solve_s: float
    sources: tuple[str, ...]
    notes: tuple[str, ...] = field(default=())
    zone_sources: tuple[tuple[str, str], ...] = field(default=())

    def source_of(self, zone: str) -> str | None:
        """The source of the forecast ``zone`` was planned on (None if not known)."""
        return dict(self.zone_sources).get(zone)

    @property
    def saving_g(self) -> float:
        return self.baseline_g - self.expected_g

    @property
    def saving_pct(self) -> float:
        return 100.0 * self.saving_g / self.baseline_g if self.baseline_g > 0 else 0.0

    def by_job(self) -> dict[str, Assignment]:
        return {a.job.name: a for a in self.assignments}

    def to_dict(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "kind": "estimated",
            "expected_g": self.expected_g,
            "baseline_g": self.baseline_g,
            "saving_g": self.saving_g,
            "saving_pct": self.saving_pct,
            "lower_bound_g": self.lower_bound_g,
            "gap_pct": self.gap_pct,
            "solve_s": self.solve_s,
            "sources": list(self.sources),
            "zone_sources": dict(self.zone_sources),
            "notes": list(self.notes),
            "assignments": [a.to_dict() for a in self.assignments],
        }


class Grid:
    """One zone's intensity series read as a step function, integrated once.

    ``grams(a, b, power_w)`` is the exact emission of drawing ``power_w`` over
    ``[a, b]`` under the step reading (a linear series is read as steps, noted).
    """

    def __init__(self, series: IntensitySeries) -> None:
        if not isinstance(series, IntensitySeries):
            raise BadInput(f"a forecast must be an IntensitySeries, got {type(series).__name__}")
        self.series = series
        edges = np.append(series.t_unix_s, series.end_unix_s)
        values = np.asarray(series.g_per_kwh, dtype=np.float64)
        if not np.all(np.isfinite(values) & (values >= 0)):  # IntensitySeries checks it too
            raise BadInput(f"the {series.zone} forecast from {series.source} has NaN, infinite "
                           "or negative intensities; they cannot be planned on")
        widths = np.diff(edges)
        self.regular = True
        if widths.size and (widths.max() - widths.min()) > _EPS:
            # Mixed spacing (a trace that moves from 30- to 15-min data, or gaps):
            # re-read as steps on the finest spacing, so every slot is one unit of time.
            fine = float(widths.min())
            n = round((edges[-1] - edges[0]) / fine)
            if n > MAX_SLOTS:
                raise BadInput(
                    f"the {series.zone} forecast from {series.source} mixes spacings: read on "
                    f"its finest step of {fine:g} s it would need {n} slots, more than the "
                    f"{MAX_SLOTS} a plan takes; resample it to one step"
                )
            edges_r = edges[0] + fine * np.arange(n + 1)
            idx = np.searchsorted(edges, edges_r[:-1] + _EPS, side="right") - 1
            self.regular = bool(np.all(np.abs(np.mod(widths / fine + 0.5, 1.0) - 0.5) < 1e-6))
            edges, values, widths = edges_r, values[np.clip(idx, 0, values.size - 1)], \
                np.full(n, fine)
        self.edges = edges
        self.values = values
        self.cum = np.concatenate(([0.0], np.cumsum(values * widths)))  # g/kWh · s
        self.step_s = float(widths[0]) if widths.size else float(series.step_s)
        d = np.diff(edges)
        self.uniform_whole_seconds = bool(
            d.size and np.all(d == self.step_s) and np.all(edges == np.round(edges))
            and self.step_s == round(self.step_s))

    def covers(self, a: float, b: float) -> bool:
        return bool(self.edges[0] <= a + _EPS and b <= self.edges[-1] + _EPS)

    def integral(self, t: np.ndarray | float) -> np.ndarray:
        return np.asarray(np.interp(t, self.edges, self.cum))

    def grams(self, a: Any, b: Any, power_w: Any) -> Any:
        return (self.integral(b) - self.integral(a)) * power_w / 3.6e6

    def slot_range(self, a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Slots ``[lo, hi)`` that runs ``[a, b]`` overlap."""
        lo = np.searchsorted(self.edges, a, side="right") - 1
        hi = np.searchsorted(self.edges, b, side="left")
        return np.maximum(lo, 0), np.minimum(hi, self.edges.size - 1)

    def starts(self, job: Job) -> np.ndarray:
        """Candidate starts that contain the optimum of a non-interruptible job."""
        e, lat, d = job.earliest_start_unix_s, job.latest_start_unix_s, job.duration_s
        lo = np.searchsorted(self.edges, e, side="right")
        hi = np.searchsorted(self.edges, lat, side="left")
        inner = self.edges[lo:hi]
        lo2 = np.searchsorted(self.edges, e + d, side="right")
        hi2 = np.searchsorted(self.edges, lat + d, side="left")
        ends = self.edges[lo2:hi2] - d
        return np.unique(np.concatenate(([e, lat], inner, ends)))


def _resolve_zones(jobs: Sequence[Job], forecasts: Mapping[str, IntensitySeries]) -> list[Job]:
    """Jobs with their zones named; a job with zone "" runs in the only forecast zone."""
    if not forecasts:
        raise BadInput("planning needs at least one intensity forecast")
    only = next(iter(forecasts)) if len(forecasts) == 1 else None
    out, bad = [], []
    for j in jobs:
        zones = tuple(only if (z == "" and only is not None) else z for z in j.zones)
        missing = [z or "<unnamed>" for z in zones if z not in forecasts]
        if missing:
            bad.append(f"{j.name} (no forecast for {', '.join(missing)})")
        out.append(j if zones == j.zones else _with(j, zones=zones))
    if bad:
        raise BadInput(_list("job(s) without intensity data for their zone", bad))
    return out


def _with(job: Job, **kw: Any) -> Job:
    return replace(job, **kw)


def _list(what: str, items: list[str]) -> str:
    more = f" (and {len(items) - 10} more)" if len(items) > 10 else ""
    return f"{len(items)} {what}: {', '.join(items[:10])}{more}"


def _check_coverage(jobs: Sequence[Job], grids: Mapping[str, Grid]) -> None:
    bad = []
    for j in jobs:
        for z in j.zones:
            if not grids[z].covers(j.earliest_start_unix_s, j.deadline_unix_s):
                s = grids[z].series
                bad.append(f"{j.name} in {z} ({s.source} covers {format_time(s.start_unix_s)} "
                           f"to {format_time(s.end_unix_s)}, the job's window "
                           f"{format_time(j.earliest_start_unix_s)} to "
                           f"{format_time(j.deadline_unix_s)})")
    if bad:
        raise BadInput(_list("job(s) whose window the intensity data does not cover", bad))


def baseline_g(job: Job, grid: Grid) -> float:
    """Emissions of running ``job`` at its baseline start, without interruption."""
    b = job.baseline_start
    return float(grid.grams(b, b + job.duration_s, job.power_w))


def best_continuous(job: Job, grid: Grid) -> tuple[float, float]:
    """``(start, grams)`` of the cheapest uninterrupted run inside the job's window."""
    s = grid.starts(job)
    g = grid.grams(s, s + job.duration_s, job.power_w)
    i = int(np.argmin(g))
    return float(s[i]), float(g[i])


def _slot_shape(job: Job, grid: Grid) -> tuple[int, int, int, int, int, str]:
    """``(first, n, K, M, R, note)``: whole slots inside the window and the job in slots."""
    step = grid.step_s
    first = int(np.searchsorted(grid.edges, job.earliest_start_unix_s - _EPS, side="left"))
    last = int(np.searchsorted(grid.edges, job.deadline_unix_s + _EPS, side="right")) - 1
    n = max(last - first, 0)
    k = math.ceil(job.duration_s / step - 1e-9)
    m = min(max(math.ceil(job.min_chunk_s / step - 1e-9), 1), k)
    r = math.ceil(job.resume_cost_s / step - 1e-9)
    note = ""
    if abs(k * step - job.duration_s) > _EPS or abs(r * step - job.resume_cost_s) > _EPS:
        note = f"run in whole {step / 60:g}-min slots: duration and resume cost rounded up"
    return first, n, k, m, r, note


def best_interruptible(job: Job, grid: Grid) -> tuple[tuple[tuple[float, float], ...], float,
                                                      str]:
    """Cheapest chunks for an interruptible job, exact on the grid's whole slots.

    Falls back to one uninterrupted run when the whole slots inside the window
    cannot hold the job (a window that starts or ends mid-slot), saying so.
    """
    first, n, k, m, r, note = _slot_shape(job, grid)
    if n < k:
        s, g = best_continuous(job, grid)
        return ((s, s + job.duration_s),), g, "too few whole slots in the window; run in one piece"
    cost = grid.values[first : first + n] * grid.step_s * job.power_w / 3.6e6
    # The job fills k - 1 whole slots and `frac` of one more.
    frac = job.duration_s / grid.step_s - (k - 1)
    frac = min(max(frac, 0.0), 1.0)
    pick: np.ndarray | None
    if m <= 1 and r == 0:
        pick = np.sort(np.argpartition(cost, k - 1)[:k])
        # Weights 1, ..., 1, frac: the part-slot is best spent on the dearest slot picked.
        partial = int(pick[np.argmax(cost[pick])])
    else:
        cells = n * (1 + r + m) * (k + 1)
        if cells > MAX_DP_CELLS:
            raise BadInput(
                f"job {job.name}: its chunk search over {n} slots of {grid.step_s:g} s, "
                f"{k} slots of work and a minimum chunk of {m} would need {cells:.3g} states, "
                f"more than {MAX_DP_CELLS:.3g}; use a coarser forecast, a shorter window or a "
                "smaller min_chunk/resume_cost"
            )
        pick = _chunk_dp(cost, k, m, r)
        if pick is None:
            s, g = best_continuous(job, grid)
            return ((s, s + job.duration_s),), g, "no chunking fits the window; run in one piece"
        partial = int(pick[-1])  # the last slot of the last chunk ends early
    grams = float(cost[pick].sum() - (1.0 - frac) * cost[partial])
    chunks = _trim(_merge(grid.edges, first + pick), grid.edges, first + partial,
                   first + pick, frac)
    if r == 0 and abs(k * grid.step_s - job.duration_s) > _EPS:
        note = ""  # the part-slot is now exact; only a resume cost is still rounded up
    s_one, g_one = best_continuous(job, grid)
    if g_one < grams - 1e-9:
        return ((s_one, s_one + job.duration_s),), g_one, "one piece is cheaper than chunks"
    return chunks, grams, note


def _trim(
    chunks: tuple[tuple[float, float], ...],
    edges: np.ndarray,
    partial: int,
    picked: np.ndarray,
    frac: float,
) -> tuple[tuple[float, float], ...]:
    """Use only ``frac`` of slot ``partial``, next to a picked neighbour where there is one.

    A slot inside a run of picked slots splits its chunk around the unused part
    (only where resuming is free: the chunked search ends early instead).
    """
    if frac >= 1.0 - 1e-12:
        return chunks
    lo, hi = float(edges[partial]), float(edges[partial + 1])
    used = frac * (hi - lo)
    chosen = set(picked.tolist())
    before, after = partial - 1 in chosen, partial + 1 in chosen
    out: list[tuple[float, float]] = []
    for a, b in chunks:
        if not a <= lo < b:
            out.append((a, b))
        elif before and after:
            out += [(a, lo + used), (hi, b)]
        elif after:
            out.append((hi - used, b))
        else:
            out.append((a, lo + used))
    return tuple(out)


def _merge(edges: np.ndarray, slots: np.ndarray) -> tuple[tuple[float, float], ...]:
    out: list[list[float]] = []
    prev = -2
    for s in slots.tolist():
        if s == prev + 1:
            out[-1][1] = float(edges[s + 1])
        else:
            out.append([float(edges[s]), float(edges[s + 1])])
        prev = s
    return tuple((a, b) for a, b in out)


def _chunk_dp(cost: np.ndarray, k: int, m: int, r: int) -> np.ndarray | None:
    """Slots to run (work and resume overhead) minimising cost; None if nothing fits.

    States per slot boundary: phase 0 = not running; 1..r = r-th overhead slot
    of a resumed chunk; r+1..r+m = running work with min(c, m) work slots in the
    chunk so far. ``w`` = work slots done, 0..k. A chunk may stop only after
    ``m`` work slots; the first chunk has no overhead.
    """
    n = cost.size
    p = 1 + r + m
    inf = np.inf
    f = np.full((p, k + 1), inf)
    f[0, 0] = 0.0
    back = np.zeros((n, p, k + 1), dtype=np.int16)
    work = lambda c: r + c  # noqa: E731 - phase of c work slots in the chunk
    for i in range(n):
        c_i = cost[i]
        g = np.full((p, k + 1), inf)
        b = np.zeros((p, k + 1), dtype=np.int16)

        def offer(to: int, cand: np.ndarray, src: int, g: np.ndarray = g,
                  b: np.ndarray = b) -> None:
            better = cand < g[to]
            g[to] = np.where(better, cand, g[to])
            b[to] = np.where(better, src, b[to])

        # idle: from not running, or from a chunk that has its m work slots
        offer(0, f[0], 0)
        offer(0, f[work(m)], work(m))
        # start the first chunk (w == 0) or a resumed one (w > 0)
        shifted = np.full(k + 1, inf)
        shifted[1:] = f[0, :-1] + c_i
        first = np.where(np.arange(k + 1) == 1, shifted, inf)
        offer(work(1), first, 0)
        if r > 0:
            resumed = np.where(np.arange(k + 1) > 0, f[0] + c_i, inf)
            offer(1, resumed, 0)
            for o in range(1, r):
                offer(o + 1, f[o] + c_i, o)
            done_ov = np.full(k + 1, inf)
            done_ov[1:] = f[r, :-1] + c_i
            offer(work(1), done_ov, r)
        else:
            again = np.where(np.arange(k + 1) > 1, shifted, inf)
            offer(work(1), again, 0)
        # keep working
        for c in range(1, m + 1):
            nxt = np.full(k + 1, inf)
            nxt[1:] = f[work(c), :-1] + c_i
            offer(work(min(c + 1, m)), nxt, work(c))
        f = g
        back[i] = b
    end_phase = 0 if f[0, k] <= f[work(m), k] else work(m)
    if not np.isfinite(f[end_phase, k]):
        return None
    run = np.zeros(n, dtype=bool)
    ph, w = end_phase, k
    for i in range(n - 1, -1, -1):
        prev = int(back[i, ph, w])
        if ph != 0:
            run[i] = True
            if ph > r:
                w -= 1
        ph = prev
    return np.flatnonzero(run)


#: Most candidate starts evaluated in one vectorised batch (memory: ~50 bytes each).
BATCH_CANDIDATES = 2_000_000


def batch_continuous(jobs: Sequence[Job], grid: Grid) -> tuple[np.ndarray, np.ndarray]:
    """``(start, grams)`` of each job's cheapest uninterrupted run in ``grid``'s zone:
    ``best_continuous`` for many jobs at once, the same candidates and the same
    answer (the earliest of equally cheap starts), in a few numpy calls per batch."""
    n = len(jobs)
    e = np.array([j.earliest_start_unix_s for j in jobs], dtype=np.float64)
    d = np.array([j.duration_s for j in jobs], dtype=np.float64)
    p = np.array([j.power_w for j in jobs], dtype=np.float64)
    lat = np.array([j.latest_start_unix_s for j in jobs], dtype=np.float64)
    edges = grid.edges
    lo1 = np.searchsorted(edges, e, side="right")
    c1 = np.maximum(np.searchsorted(edges, lat, side="left") - lo1, 0)
    lo2 = np.searchsorted(edges, e + d, side="right")
    c2 = np.maximum(np.searchsorted(edges, lat + d, side="left") - lo2, 0)
    if grid.uniform_whole_seconds:
        # On evenly spaced whole-second edges, a run that is a whole number of steps
        # ends on an edge exactly when it starts on one: its "ends" candidates are the
        # inner ones again, so they are left out (the same set, half the work).
        c2 = np.where(np.mod(d, grid.step_s) == 0, 0, c2)
    counts = 2 + c1 + c2
    best_s, best_g = np.empty(n), np.empty(n)
    first = 0
    while first < n:
        # Jobs [first, last) with at most BATCH_CANDIDATES candidates (one at least).
        csum = np.cumsum(counts[first:])
        last = first + max(1, int(np.searchsorted(csum, BATCH_CANDIDATES, side="right")))
        sl = slice(first, last)
        cnt = counts[sl]
        offsets = np.concatenate(([0], np.cumsum(cnt)[:-1]))
        jid = np.repeat(np.arange(last - first), cnt)
        pos = np.arange(int(cnt.sum())) - offsets[jid]
        k1 = c1[sl][jid]
        inner = np.clip(lo1[sl][jid] + pos - 2, 0, edges.size - 1)
        ends = np.clip(lo2[sl][jid] + pos - 2 - k1, 0, edges.size - 1)
        starts = np.where(pos == 0, e[sl][jid], np.where(
            pos == 1, lat[sl][jid], np.where(pos < 2 + k1, edges[inner],
                                             edges[ends] - d[sl][jid])))
        grams = (grid.integral(starts + d[sl][jid]) - grid.integral(starts)) \
            * p[sl][jid] / 3.6e6
        seg_min = np.minimum.reduceat(grams, offsets)
        at_min = np.where(grams == seg_min[jid], starts, np.inf)
        best_s[sl] = np.minimum.reduceat(at_min, offsets)
        best_g[sl] = seg_min
        first = last
    return best_s, best_g


def free_choices(jobs: Sequence[Job], grids: Mapping[str, Grid]) -> list[Assignment]:
    """Each job's capacity-free optimum (``_single``); one-zone uninterrupted jobs are
    solved in bulk per zone (``batch_continuous``), the rest one by one."""
    out: list[Assignment | None] = [None] * len(jobs)
    by_zone: dict[str, list[int]] = {}
    for i, j in enumerate(jobs):
        if not j.interruptible and len(j.zones) == 1:
            by_zone.setdefault(j.zones[0], []).append(i)
        else:
            out[i] = _single(j, grids)
    for z, idx in by_zone.items():
        grid = grids[z]
        sub = [jobs[i] for i in idx]
        s, g = batch_continuous(sub, grid)
        b = np.array([j.baseline_start for j in sub])
        d = np.array([j.duration_s for j in sub])
        pw = np.array([j.power_w for j in sub])
        base = grid.grams(b, b + d, pw)
        for k, i in enumerate(idx):
            st = float(s[k])
            out[i] = Assignment(jobs[i], z, ((st, st + jobs[i].duration_s),), float(g[k]),
                                float(base[k]), "")
    return [a for a in out if a is not None]


def _single(job: Job, grids: Mapping[str, Grid]) -> Assignment:
    best: tuple[float, str, tuple[tuple[float, float], ...], str] | None = None
    for z in job.zones:
        jz = at(job, z)
        if job.interruptible:
            chunks, g, note = best_interruptible(jz, grids[z])
        else:
            s, g = best_continuous(jz, grids[z])
            chunks, note = ((s, s + jz.duration_s),), ""
        if best is None or g < best[0] - 1e-12:
            best = (g, z, chunks, note)
    assert best is not None  # zones is never empty after validation
    g, z, chunks, note = best
    return Assignment(at(job, z), z, chunks, g, baseline_g(job, grids[job.home_zone]), note)


def move_bar(job: Job, baseline: float, *, error_g_per_kwh: float | None = None,
             min_saving_pct: float = MIN_SAVING_PCT,
             error_basis: str | None = None) -> tuple[float, str]:
    """``(grams, why)``: the forecast saving a move of ``job`` must exceed, and whence.

    The forecast's own error (``error_g_per_kwh``) over the job's energy, or, where
    the forecast gives none, ``min_saving_pct`` of ``baseline`` (the grams of
    running at the usual time).
    """
    if error_g_per_kwh is not None:
        bar = error_g_per_kwh * job.power_w * job.duration_s / 3.6e6
        basis = f"; {error_basis}" if error_basis else ""
        return bar, (f"the forecast's own error estimate ({error_g_per_kwh:.3g} gCO2eq/kWh, "
                     f"{bar:.3g} g over the run{basis})")
    return (min_saving_pct / 100.0 * baseline,
            f"the {min_saving_pct:g} % threshold (the forecast gives no error estimate)")


def is_usual(a: Assignment) -> bool:
    """Whether ``a`` runs its job at the usual time: home zone, in one piece from its
    baseline start."""
    b = a.job.baseline_start
    return a.zone == a.job.home_zone and a.chunks == ((b, b + a.job.duration_s),)


def hold_if_marginal(a: Assignment, *, error_g_per_kwh: float | None = None,
                     min_saving_pct: float = MIN_SAVING_PCT,
                     error_basis: str | None = None) -> Assignment:
    """``a``, or its job at its usual time when the forecast saving is not worth the move.

    A job moves only when the forecast saving exceeds the forecast's own error
    (``error_g_per_kwh`` over the run, measured as ``error_basis`` says), or, where
    the forecast gives none, ``min_saving_pct`` of running at the usual time
    (``move_bar``). A kept job's note says why.
    """
    if is_usual(a):
        return a
    job = at(a.job, a.job.home_zone)
    b = job.baseline_start
    usual = ((b, b + job.duration_s),)
    saving = a.baseline_g - a.expected_g
    bar, why = move_bar(job, a.baseline_g, error_g_per_kwh=error_g_per_kwh,
                        min_saving_pct=min_saving_pct, error_basis=error_basis)
    if saving > bar:
        return a
    return Assignment(job, job.home_zone, usual, a.baseline_g, a.baseline_g,
                      _held_note(saving, a.baseline_g, why))


def _held_note(saving: float, baseline: float, why: str) -> str:
    pct = 100.0 * saving / baseline if baseline > 0 else 0.0
    return (f"not moved: the forecast saving of {saving:.3g} g ({pct:.1f} %) does not exceed "
            f"{why}; kept at its usual time")


def _check_hold(min_saving_pct: float, errors: Mapping[str, float] | None) -> dict[str, float]:
    if isinstance(min_saving_pct, bool) or not (
            isinstance(min_saving_pct, (int, float)) and 0 <= min_saving_pct <= 100):
        raise BadInput(f"min_saving_pct must be from 0 to 100, got {min_saving_pct!r:.40}")
    out = {}
    for z, e in (errors or {}).items():
        if isinstance(e, bool) or not (isinstance(e, (int, float)) and math.isfinite(e)
                                       and e >= 0):
            raise BadInput(f"forecast error of {z} must be a finite number >= 0 gCO2eq/kWh, "
                           f"got {e!r:.40}")
        out[z] = float(e)
    return out


@dataclass(frozen=True)
class TieRule:
    """What a move must pass, per zone.

    Where the zone's forecast carries error scenarios (a ``carbon.forecast.Forecast``
    from ``forecast_at``: the same forecaster's errors at the same time of day on the
    previous days), a move must save carbon with probability ``p_min`` or more and
    save on average under those scenarios (``schedule.confidence``). Else it must
    beat an error in gCO2eq/kWh (given, or the forecast's backtested one) over the
    job's energy, or (zones with neither) ``min_saving_pct`` of the usual grams.
    """

    errors: Mapping[str, float]
    basis: Mapping[str, str]
    min_saving_pct: float
    scenarios: Mapping[str, tuple[float, float, np.ndarray]] = field(default_factory=dict)
    p_min: float = 0.5

    @classmethod
    def of(cls, forecasts: Mapping[str, IntensitySeries], given: Mapping[str, float],
           min_saving_pct: float, p_min: float | None = None) -> TieRule:
        """Given errors first, else each forecast's own scenarios, else its own estimate."""
        from wattwise.carbon.forecast import Forecast
        from wattwise.carbon.forecast_replay import MIN_SCENARIOS
        from wattwise.schedule.confidence import P_MIN

        errors, basis = dict(given), {z: f"given for {z}" for z in given}
        scen: dict[str, tuple[float, float, np.ndarray]] = {}
        for z, s in forecasts.items():
            if z in errors or not isinstance(s, Forecast):
                continue
            if s.scenarios is not None and s.scenarios.shape[0] >= MIN_SCENARIOS:
                scen[z] = (s.start_unix_s, float(s.step_s), s.scenarios)
            elif s.error is not None:
                errors[z], basis[z] = s.error.difference_mae_g_per_kwh, s.error.describe()
        return cls(errors, basis, min_saving_pct, scen, P_MIN if p_min is None else p_min)

    def error_for(self, job: Job, zone: str) -> tuple[float | None, str | None]:
        """The error a move of ``job`` to ``zone`` is weighed against (the larger of its
        zone's and its home zone's), and its basis; ``(None, None)`` where neither has one."""
        known = [(self.errors[z], self.basis[z]) for z in dict.fromkeys((zone, job.home_zone))
                 if z in self.errors]
        return max(known, key=lambda x: x[0]) if known else (None, None)

    def _scenario_grams(self, job: Job, zone: str,
                        chunks: Sequence[tuple[float, float]]) -> np.ndarray | None:
        """Per scenario, the error it puts on the grams of ``chunks`` in ``zone``."""
        from wattwise.carbon.forecast_replay import window_means

        got = self.scenarios.get(zone)
        if got is None:
            return None
        t0, step, rows = got
        total = np.zeros(rows.shape[0])
        for a, b in chunks:
            total += window_means(rows, step, np.array([a - t0]), b - a)[:, 0] * (b - a)
        return total * job.power_w / 3.6e6

    def odds(self, a: Assignment) -> Any:
        """The rule's ``confidence.Choice`` between ``a`` and its usual time (None where
        the zones involved carry no scenarios)."""
        from wattwise.schedule.confidence import choose

        job = at(a.job, a.job.home_zone)
        b = job.baseline_start
        e_usual = self._scenario_grams(job, job.home_zone, ((b, b + job.duration_s),))
        e_move = self._scenario_grams(a.job, a.zone, a.chunks)
        if e_usual is None or e_move is None:
            return None
        k = min(e_usual.size, e_move.size)  # both rows run back day by day from the origin
        err = np.column_stack([e_usual[:k], e_move[:k]])
        return choose(np.array([a.baseline_g, a.expected_g]), err, 0, p_min=self.p_min,
                      min_saving_pct=self.min_saving_pct)

    def hold(self, a: Assignment) -> Assignment:
        if is_usual(a):
            return a
        c = self.odds(a)
        if c is not None:
            if c.moved:
                return replace(a, p_save=c.p_save)
            job = at(a.job, a.job.home_zone)
            b = job.baseline_start
            saving = a.baseline_g - a.expected_g
            why = (f"a {self.p_min:g} probability of saving carbon (the forecast's errors on "
                   f"the previous {c.n_scenarios} days give "
                   + ("no saving" if c.p_save is None else
                      f"{c.p_save:.2f}, expected saving {c.expected_saving:.3g} g") + ")")
            return Assignment(job, job.home_zone, ((b, b + job.duration_s),), a.baseline_g,
                              a.baseline_g, _held_note(saving, a.baseline_g, why))
        e, basis = self.error_for(a.job, a.zone)
        return hold_if_marginal(a, error_g_per_kwh=e, min_saving_pct=self.min_saving_pct,
                                error_basis=basis)

    def hold_many(self, moves: Sequence[Assignment]) -> list[Assignment]:
        """``hold`` for each assignment; moves within a zone that carries no scenarios
        are weighed against their bar in bulk, and only the held ones are rebuilt."""
        out = list(moves)
        simple = [i for i, a in enumerate(moves)
                  if a.zone not in self.scenarios and a.job.home_zone not in self.scenarios]
        for i in sorted(set(range(len(moves))) - set(simple)):
            out[i] = self.hold(moves[i])
        if not simple:
            return out
        sub = [moves[i] for i in simple]
        saving = np.array([a.baseline_g - a.expected_g for a in sub])
        errs = [self.error_for(a.job, a.zone)[0] for a in sub]
        bar = np.array([self.min_saving_pct / 100.0 * a.baseline_g if e is None else
                        e * a.job.power_w * a.job.duration_s / 3.6e6
                        for a, e in zip(sub, errs, strict=True)])
        for k in np.flatnonzero(~(saving > bar)).tolist():
            out[simple[k]] = self.hold(sub[k])  # kept at the usual time, with its note
        return out

    def bar_g(self, job: Job, zone: str, baseline: float,
              free: Assignment | None = None) -> float:
        """What a move costs under capacity. With scenarios: the forecast saving at which
        the move to ``free`` (the job's capacity-free choice) reaches ``p_min``."""
        if free is not None and not is_usual(free):
            b = job.baseline_start
            e_usual = self._scenario_grams(job, job.home_zone, ((b, b + job.duration_s),))
            e_move = self._scenario_grams(free.job, free.zone, free.chunks)
            if e_usual is not None and e_move is not None:
                k = min(e_usual.size, e_move.size)
                return max(0.0, float(np.quantile(e_usual[:k] - e_move[:k], self.p_min)))
        e, _ = self.error_for(job, zone)
        return move_bar(job, baseline, error_g_per_kwh=e, min_saving_pct=self.min_saving_pct)[0]

    def note(self, zones: Sequence[str]) -> str:
        """One line: what a move had to pass in each zone."""
        bars = {}
        for z in zones:
            if z in self.errors:
                bars[z] = (f"the forecast error, {self.errors[z]:.3g} gCO2eq/kWh "
                           f"({self.basis[z]})")
            elif z not in self.scenarios:
                bars[z] = (f"{self.min_saving_pct:g} % of running at the usual time (the "
                           "forecast gives no error estimate)")
        if not any(z in self.scenarios for z in zones):
            return ("tie rule: a job moves only for a forecast saving above "
                    + "; ".join(f"{z}: {bars[z]}" for z in zones))
        parts = [f"{z}: a probability of saving carbon of at least {self.p_min:g}, from the "
                 f"forecast's errors on the previous {self.scenarios[z][2].shape[0]} days at "
                 "the same time of day" if z in self.scenarios else
                 f"{z}: a forecast saving above {bars[z]}" for z in zones]
        return "tie rule: a job moves only for " + "; ".join(parts)


def plan(
    jobs: Sequence[Job],
    forecasts: Mapping[str, IntensitySeries] | IntensitySeries,
    *,
    capacity: Mapping[str, int | np.ndarray] | None = None,
    method: Method = "auto",
    time_limit_s: float = 60.0,
    min_saving_pct: float = MIN_SAVING_PCT,
    forecast_error_g_per_kwh: Mapping[str, float] | None = None,
    p_min: float | None = None,
    offers: Sequence[Offer] | None = None,
) -> Plan:
    """Place every job so the expected emissions are lowest, within deadlines and capacity.

    ``forecasts`` maps zone -> intensity series (a forecast, or the actual
    trace for the perfect-knowledge optimum); one series may be passed alone.
    ``capacity`` maps zone -> how many resource units run at once there
    (an int, or an array over that zone's forecast slots). Raises BadInput
    naming the jobs on any invalid job, missing data or infeasible capacity.

    A move must be worth it, or the job stays at its usual time and its note says
    why (``TieRule``): where the forecast carries error scenarios (a
    ``carbon.forecast.Forecast`` from ``forecast_at``), the move must save carbon
    with probability ``p_min`` or more (default ``confidence.P_MIN``) and on
    average under them, and the assignment reports that probability (``p_save``);
    else the forecast saving must exceed ``forecast_error_g_per_kwh`` of its zone
    where given, or the forecast's own error estimate, or ``min_saving_pct`` % of
    running at the usual time. A plan note says which. Under capacity the solvers
    apply the same rule: every move costs its bar, so a job leaves its usual time
    only for a saving above it, or when the capacity there is taken.

    Without capacity, one-zone uninterrupted jobs are solved in bulk per zone
    (``batch_continuous``): 10,000 of them plan faster than a plain loop over the
    jobs finds each one's best start (BENCHMARKS.md).

    ``offers`` (``placement.Offer``: zone, node type, capacity) says what the cluster
    has: each job is then placed only on offered (zone, node type) pairs, at its own
    energy and duration there (``Job.energy_by_node``) times that zone's intensity,
    under each pair's capacity (give capacity on the offers, not in ``capacity``). Each
    assignment names its ``node`` and its figures' source, and its note says which of
    the job's zones and node types were not offered; a job with none offered is
    refused by name.
    """
    t0 = time.perf_counter()
    given = _check_hold(min_saving_pct, forecast_error_g_per_kwh)
    if method not in ("auto", "exact", "milp", "greedy"):
        raise BadInput(f"method must be auto, exact, milp or greedy, got {method!r:.60}")
    if not (isinstance(time_limit_s, (int, float)) and 0 < time_limit_s <= 86400):
        raise BadInput(f"time_limit_s must be a number of seconds in (0, 86400], got "
                       f"{time_limit_s!r:.40}")
    if isinstance(forecasts, IntensitySeries):
        forecasts = {forecasts.zone: forecasts}
    if not isinstance(forecasts, Mapping):
        raise BadInput("forecasts must map zone -> IntensitySeries (or be one IntensitySeries)")
    if not jobs:
        raise BadInput("nothing to plan: the job list is empty")
    if not all(isinstance(j, Job) for j in jobs):
        raise BadInput("plan takes a sequence of Job objects")
    validate(jobs)
    originals = {j.name: j for j in jobs}
    placed = None
    if offers is not None:
        from wattwise.schedule.placement import expand

        if capacity is not None:
            raise BadInput("with offers, give capacity on each Offer(zone, node, capacity), "
                           "not per zone")
        placed, given = expand(jobs, forecasts, offers, given)
        jobs, forecasts, capacity = placed.jobs, placed.forecasts, placed.capacity
    jobs = _resolve_zones(jobs, forecasts)
    grids = {z: Grid(s) for z, s in forecasts.items()}
    _check_coverage(jobs, grids)
    if p_min is not None:
        from wattwise.schedule.confidence import check_p_min

        p_min = check_p_min(p_min)
    rule = TieRule.of(forecasts, given, min_saving_pct, p_min)
    notes = [f"{s.zone}: read as steps (series was linear)" for s in forecasts.values()
             if s.interpolation == "linear"]
    free = free_choices(jobs, grids)
    lower = float(sum(a.expected_g for a in free))
    held_free = rule.hold_many(free)
    if capacity is None:
        if method in ("milp", "greedy"):
            notes.append(f"no capacity limit: {method} not needed, exact per-job optimum used")
        chosen, used, gap = held_free, "exact", 0.0
    else:
        from wattwise.schedule import capacity as cap_mod

        caps = _capacity_arrays(capacity, grids)
        if method == "exact":
            raise BadInput("method 'exact' ignores capacity; use auto, milp or greedy")
        n_vars = cap_mod.n_variables([cap_mod.options(j, grids) for j in jobs])
        limit = MILP_MAX_VARS_INTERRUPTIBLE if any(j.interruptible for j in jobs) \
            else MILP_MAX_VARS
        use = method if method != "auto" else ("milp" if n_vars <= limit else "greedy")
        if use == "milp":
            chosen, gap = cap_mod.milp(jobs, grids, caps, time_limit_s, rule, choices=free)
        else:
            chosen = cap_mod.greedy(jobs, grids, caps, held_free, rule, choices=free)
            total = sum(a.expected_g for a in chosen)
            gap = 100.0 * (total - lower) / lower if lower > 0 else 0.0
        # A job the rule kept at its usual time says why, as without capacity.
        chosen = [h if is_usual(a) and h.note.startswith("not moved") else a
                  for a, h in zip(chosen, held_free, strict=True)]
        used = use
        if used == "greedy":
            notes.append("greedy: gap measured against the capacity-free optimum "
                         "(a lower bound), so the true gap is at most this")
    held = [a.job.name for a in chosen if a.note.startswith("not moved")]
    if held:
        notes.append(_list("job(s) kept at their usual time, the forecast saving too "
                           "small to trust", held))
    used_zones = sorted({z for j in jobs for z in j.zones})
    if placed is None:
        notes.append(rule.note(used_zones))
    else:
        notes.append(_placement_rule_note(rule, used_zones))
        chosen = [collapse(a, originals[a.job.name], placed.notes[a.job.name])
                  for a in chosen]
        notes.append(_placement_note(chosen))
    expected = float(sum(a.expected_g for a in chosen))
    base = float(sum(a.baseline_g for a in chosen))
    sources = tuple(sorted({s.source for s in forecasts.values()}))
    for s in forecasts.values():
        notes.extend(s.notes[:1])
    zone_sources = {split_site(z)[0]: s.source for z, s in forecasts.items()}
    return Plan(tuple(chosen), used, expected, base, lower, max(gap, 0.0),
                time.perf_counter() - t0, sources,
                tuple(notes if placed is None else dict.fromkeys(notes)),
                tuple(sorted(zone_sources.items())))


def _placement_rule_note(rule: TieRule, sites: Sequence[str]) -> str:
    """The tie rule's note, one entry per real zone (it holds alike on its node types)."""
    first = list({split_site(s)[0]: s for s in reversed(sites)}.values())
    text = rule.note(sorted(first))
    for s in first:
        text = text.replace(f"{s}:", f"{split_site(s)[0]}:")
    return text


def _placement_note(chosen: Sequence[Assignment]) -> str:
    """Where each job's energy figure came from, in one line."""
    parts = []
    for a in chosen:
        e = a.energy
        src = e.source if e is not None else "its own power and duration"
        parts.append(f"{a.job.name} on {a.node or 'unnamed hardware'} in {a.zone}: "
                     f"{a.job.power_w * a.job.duration_s / 3.6e6:.3g} kWh over "
                     f"{a.job.duration_s / 3600:.3g} h ({src})")
    more = f" (and {len(parts) - 10} more)" if len(parts) > 10 else ""
    return "placed on node types by their energy for each job: " + "; ".join(parts[:10]) + more


def _capacity_arrays(capacity: Mapping[str, int | np.ndarray],
                     grids: Mapping[str, Grid]) -> dict[str, np.ndarray]:
    out = {}
    for z, g in grids.items():
        n = g.edges.size - 1
        c = capacity.get(z)
        if c is None:
            out[z] = np.full(n, np.iinfo(np.int64).max // 4, dtype=np.int64)
            continue
        arr = _capacity_array(c, z, n)
        out[z] = arr.copy()
    unknown = sorted(set(capacity) - set(grids))
    if unknown:
        raise BadInput(f"capacity given for zone(s) without a forecast: {', '.join(unknown)}")
    return out


def _capacity_array(c: Any, zone: str, n: int) -> np.ndarray:
    """One zone's capacity as ``n`` whole numbers from 0 to ``MAX_RESOURCES``, or BadInput."""
    from wattwise.schedule.jobs import MAX_RESOURCES

    what = (f"capacity of {zone} must be a whole number from 0 to {MAX_RESOURCES}, or {n} "
            "such numbers, one per forecast slot")
    raw = np.asarray(c)
    if raw.dtype == bool or raw.dtype.kind not in "iuf" or raw.ndim > 1:
        raise BadInput(what)
    if raw.ndim == 0:
        raw = np.full(n, raw)
    with np.errstate(invalid="ignore"):
        ok = (raw.shape == (n,) and bool(np.all(np.isfinite(raw)))
              and bool(np.all((raw >= 0) & (raw <= MAX_RESOURCES)))
              and bool(np.all(raw == np.floor(raw))))
    if not ok:
        raise BadInput(what)
    return raw.astype(np.int64)


def replan(previous: Plan, forecasts: Mapping[str, IntensitySeries] | IntensitySeries,
           now_unix_s: float, *, capacity: Mapping[str, int | np.ndarray] | None = None,
           method: Method = "auto", offers: Sequence[Offer] | None = None) -> Plan:
    """Re-plan the jobs of ``previous`` that have not started by ``now`` on new forecasts.

    Started jobs keep their assignment; the rest may start from ``now`` on.
    Under capacity the started jobs' use is subtracted first. Expected
    emissions of kept jobs are re-read from the new forecasts where they cover them.
    ``offers`` places the rest on what the cluster offers (as ``plan``); with capacity
    on the offers, started jobs are not subtracted from it, so that is refused.
    """
    if isinstance(forecasts, IntensitySeries):
        forecasts = {forecasts.zone: forecasts}
    kept = [a for a in previous.assignments if a.start_unix_s < now_unix_s]
    todo = [
        _with(a.job, earliest_start_unix_s=max(a.job.earliest_start_unix_s, now_unix_s),
              baseline_start_unix_s=max(a.job.baseline_start, now_unix_s))
        for a in previous.assignments if a.start_unix_s >= now_unix_s
    ]
    if offers is not None and kept and any(o.capacity is not None for o in offers):
        raise BadInput("replanning with capacity on the offers while jobs run is not "
                       "supported: give offers without capacity, or plan the rest anew")
    if capacity is not None and kept:
        grids = {z: Grid(s) for z, s in forecasts.items()}
        caps = _capacity_arrays(capacity, grids)
        for a in kept:
            g = grids.get(a.zone)
            if g is None:
                continue
            for c0, c1 in a.chunks:
                lo, hi = g.slot_range(np.array([c0]), np.array([c1]))
                caps[a.zone][int(lo[0]) : int(hi[0])] -= a.job.resources
        capacity = {z: np.maximum(c, 0) for z, c in caps.items()}
    if not todo:
        return previous
    new = plan(todo, forecasts, capacity=capacity, method=method, offers=offers)
    assignments = tuple(kept) + new.assignments
    expected = float(sum(a.expected_g for a in assignments))
    base = float(sum(a.baseline_g for a in assignments))
    lower = new.lower_bound_g + sum(a.expected_g for a in kept)
    return Plan(assignments, new.method, expected, base, lower, new.gap_pct, new.solve_s,
                new.sources, (*new.notes, f"replanned at {now_unix_s:.0f}: {len(kept)} job(s) "
                              "already started kept"), new.zone_sources)


def best_window(
    forecast: IntensitySeries,
    duration_s: float,
    start_unix_s: float,
    end_unix_s: float,
    *,
    power_w: float | None = None,
    interruptible: bool = False,
    min_chunk_s: float = 0.0,
    resume_cost_s: float = 0.0,
    name: str = "job",
) -> Assignment:
    """The lowest-intensity window of ``duration_s`` inside ``[start, end]`` for one zone.

    ``name`` names the job (and the run a ``LocalExecutor`` records for it).

    The question the Carbon Aware SDK answers, exactly; with ``interruptible``
    the cheapest chunks instead. ``baseline_g`` is running at ``start``. With no
    ``power_w`` the grams are for a 1 kW draw.
    """
    job = Job(name, duration_s, start_unix_s, end_unix_s,
              power_w=1000.0 if power_w is None else power_w, interruptible=interruptible,
              min_chunk_s=min_chunk_s, resume_cost_s=resume_cost_s, zones=(forecast.zone,),
              power_given=power_w is not None)
    return plan([job], forecast, method="exact").assignments[0]
