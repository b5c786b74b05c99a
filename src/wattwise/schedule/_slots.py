"""The slot grid both planners share: one zone's forecast as steps, and whole-slot runs.

``Grid`` reads an intensity series as a step function and integrates it once;
``slot_shape`` says how a job sits on its whole slots; ``chunk_dp`` is the exact
chunking search of one interruptible job over per-slot costs (minimum chunk,
resume cost); ``merge`` turns picked slots into time chunks. The capacity-free
search (``search``) and the capacity solvers (``options``, ``greedy``, ``milp``)
all build on these, so both answer on the same grid.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from wattwise.carbon.sources import IntensitySeries
from wattwise.errors import BadInput
from wattwise.schedule.jobs import Job

#: Seconds within which a time counts as on a slot edge (float noise in Unix times).
EPS = 1e-6

#: Most slots one zone's forecast may have on its finest step (a year of minutes is 527,040).
MAX_SLOTS = 2_000_000


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
        if widths.size and (widths.max() - widths.min()) > EPS:
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
            idx = np.searchsorted(edges, edges_r[:-1] + EPS, side="right") - 1
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
        return bool(self.edges[0] <= a + EPS and b <= self.edges[-1] + EPS)

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


def baseline_g(job: Job, grid: Grid) -> float:
    """Emissions of running ``job`` at its baseline start, without interruption."""
    b = job.baseline_start
    return float(grid.grams(b, b + job.duration_s, job.power_w))


def slot_shape(job: Job, grid: Grid) -> tuple[int, int, int, int, int, str]:
    """``(first, n, K, M, R, note)``: whole slots inside the window and the job in slots."""
    step = grid.step_s
    first = int(np.searchsorted(grid.edges, job.earliest_start_unix_s - EPS, side="left"))
    last = int(np.searchsorted(grid.edges, job.deadline_unix_s + EPS, side="right")) - 1
    n = max(last - first, 0)
    k = math.ceil(job.duration_s / step - 1e-9)
    m = min(max(math.ceil(job.min_chunk_s / step - 1e-9), 1), k)
    r = math.ceil(job.resume_cost_s / step - 1e-9)
    note = ""
    if abs(k * step - job.duration_s) > EPS or abs(r * step - job.resume_cost_s) > EPS:
        note = f"run in whole {step / 60:g}-min slots: duration and resume cost rounded up"
    return first, n, k, m, r, note


def merge(edges: np.ndarray, slots: np.ndarray) -> tuple[tuple[float, float], ...]:
    """Sorted slot indices as time chunks, runs of adjacent slots joined into one."""
    out: list[list[float]] = []
    prev = -2
    for s in slots.tolist():
        if s == prev + 1:
            out[-1][1] = float(edges[s + 1])
        else:
            out.append([float(edges[s]), float(edges[s + 1])])
        prev = s
    return tuple((a, b) for a, b in out)


def chunk_dp(cost: np.ndarray, k: int, m: int, r: int) -> np.ndarray | None:
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
