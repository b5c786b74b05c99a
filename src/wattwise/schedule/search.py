"""One job's best place without a capacity limit: the exact single-job search.

A non-interruptible job takes the window of lowest integrated intensity
(``best_continuous``: a step function's window integral is piecewise linear in
the start time, so the minimum lies at the earliest or latest start or where the
window's start or end meets a sample boundary, and those candidates are all
checked; ``batch_continuous`` does the same for many jobs in a few numpy calls).
An interruptible job takes whole slots of the forecast grid
(``best_interruptible``): the cheapest slots when chunks may be one slot long and
resuming is free, otherwise the chunking search of ``_slots.chunk_dp``.
``single`` picks the best zone; ``free_choices`` does it for every job, and its
total is the capacity-free optimum, the lower bound the capacity solvers report
their gap against.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from wattwise.errors import BadInput
from wattwise.schedule._slots import EPS, Grid, baseline_g, chunk_dp, merge, slot_shape
from wattwise.schedule.jobs import Job
from wattwise.schedule.placement import at
from wattwise.schedule.result import Assignment

#: Most cells of the chunk search of one interruptible job (slots x states x work done).
MAX_DP_CELLS = 50_000_000


def best_continuous(job: Job, grid: Grid) -> tuple[float, float]:
    """``(start, grams)`` of the cheapest uninterrupted run inside the job's window."""
    s = grid.starts(job)
    g = grid.grams(s, s + job.duration_s, job.power_w)
    i = int(np.argmin(g))
    return float(s[i]), float(g[i])


def best_interruptible(job: Job, grid: Grid) -> tuple[tuple[tuple[float, float], ...], float,
                                                      str]:
    """Cheapest chunks for an interruptible job, exact on the grid's whole slots.

    Falls back to one uninterrupted run when the whole slots inside the window
    cannot hold the job (a window that starts or ends mid-slot), saying so.
    """
    first, n, k, m, r, note = slot_shape(job, grid)
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
        pick = chunk_dp(cost, k, m, r)
        if pick is None:
            s, g = best_continuous(job, grid)
            return ((s, s + job.duration_s),), g, "no chunking fits the window; run in one piece"
        partial = int(pick[-1])  # the last slot of the last chunk ends early
    grams = float(cost[pick].sum() - (1.0 - frac) * cost[partial])
    chunks = _trim(merge(grid.edges, first + pick), grid.edges, first + partial,
                   first + pick, frac)
    if r == 0 and abs(k * grid.step_s - job.duration_s) > EPS:
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
    """Each job's capacity-free optimum (``single``); one-zone uninterrupted jobs are
    solved in bulk per zone (``batch_continuous``), the rest one by one."""
    out: list[Assignment | None] = [None] * len(jobs)
    by_zone: dict[str, list[int]] = {}
    for i, j in enumerate(jobs):
        if not j.interruptible and len(j.zones) == 1:
            by_zone.setdefault(j.zones[0], []).append(i)
        else:
            out[i] = single(j, grids)
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


def single(job: Job, grids: Mapping[str, Grid]) -> Assignment:
    """``job``'s cheapest place over its zones with no capacity limit (the earlier zone
    of equals), against running it at its usual time."""
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
