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

This module is the entry point (``plan``, ``replan``, ``best_window``): the slot grid
is ``_slots``, the single-job search ``search``, the tie rule ``ties``, the
capacity solvers ``capacity``, and what a plan holds ``result``; their public
names are named here too.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any, Literal

import numpy as np

from wattwise._userinput import format_time
from wattwise.carbon.sources import IntensitySeries
from wattwise.errors import BadInput
from wattwise.schedule import capacity as cap_mod
from wattwise.schedule._slots import MAX_SLOTS, Grid, baseline_g
from wattwise.schedule.jobs import MAX_RESOURCES, Job, check_job_list, listed, validate
from wattwise.schedule.placement import Offer, collapse, expand, split_site
from wattwise.schedule.result import Assignment, Plan
from wattwise.schedule.search import (
    BATCH_CANDIDATES,
    MAX_DP_CELLS,
    batch_continuous,
    best_continuous,
    best_interruptible,
    free_choices,
)
from wattwise.schedule.ties import (
    MIN_SAVING_PCT,
    TieRule,
    check_hold,
    hold_if_marginal,
    is_usual,
    move_bar,
)

__all__ = [
    "BATCH_CANDIDATES", "MAX_DP_CELLS", "MAX_SLOTS", "MILP_MAX_VARS",
    "MILP_MAX_VARS_INTERRUPTIBLE", "MIN_SAVING_PCT", "Assignment", "Grid", "Method", "Plan",
    "TieRule", "baseline_g", "batch_continuous", "best_continuous", "best_interruptible",
    "best_window", "free_choices", "hold_if_marginal", "is_usual", "move_bar", "plan", "replan",
]

Method = Literal["auto", "exact", "milp", "greedy"]

#: Above this many 0/1 variables ``auto`` uses the greedy heuristic (see BENCHMARKS).
MILP_MAX_VARS = 20_000

#: The same with interruptible jobs, whose chunk constraints make the MILP far harder.
MILP_MAX_VARS_INTERRUPTIBLE = 5_000


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
        raise BadInput(listed("job(s) without intensity data for their zone", bad))
    return out


def _with(job: Job, **kw: Any) -> Job:
    return replace(job, **kw)


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
        raise BadInput(listed("job(s) whose window the intensity data does not cover", bad))


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
    given = check_hold(min_saving_pct, forecast_error_g_per_kwh)
    if method not in ("auto", "exact", "milp", "greedy"):
        raise BadInput(f"method must be auto, exact, milp or greedy, got {method!r:.60}")
    if not (isinstance(time_limit_s, (int, float)) and 0 < time_limit_s <= 86400):
        raise BadInput(f"time_limit_s must be a number of seconds in (0, 86400], got "
                       f"{time_limit_s!r:.40}")
    if isinstance(forecasts, IntensitySeries):
        forecasts = {forecasts.zone: forecasts}
    if not isinstance(forecasts, Mapping):
        raise BadInput("forecasts must map zone -> IntensitySeries (or be one IntensitySeries)")
    check_job_list(jobs)
    if not jobs:
        raise BadInput("nothing to plan: the job list is empty")
    validate(jobs)
    originals = {j.name: j for j in jobs}
    placed = None
    if offers is not None:
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
        notes.append(listed("job(s) kept at their usual time, the forecast saving too "
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
