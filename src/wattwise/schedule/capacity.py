"""Planning under a capacity limit: the MILP (HiGHS) and the greedy heuristic.

Every job is a set of *options*, one per allowed zone:

- ``Starts``: one uninterrupted run, a 0/1 choice among the candidate starts
  that contain the optimum (``Grid.starts``). Non-interruptible jobs, and
  interruptible ones whose window holds too few whole slots to be cut.
- ``Slots``: an interruptible job on the zone's whole slots. The MILP has a
  0/1 run variable per slot, a zone choice ``u``, and chunk-start indicators
  ``y`` (``y_t = x_t AND NOT x_{t-1}``) where chunks are constrained: every
  resumed chunk spends ``r`` slots on its resume overhead, so the slots run
  are ``k + r · (chunks - 1)`` and the overhead is charged at the intensity of
  the slots it really runs in; a first-start indicator ``z`` (with a running
  prefix sum) tells the first chunk (``>= m`` slots) from resumed ones
  (``>= r + m`` slots). This is the single-job model of ``_chunk_dp``, so the
  capacity-free optimum stays a true lower bound.

Capacity is per zone and forecast slot, shared by both kinds: a continuous run
occupies every slot it overlaps, an interruptible job the slots it runs in.

The tie rule of the capacity-free planner holds here too (``planner.TieRule``):
every job also has its usual time as an option (home zone, one piece from its
baseline start), and every other option costs its bar on top of its grams (the
forecast's error over the job's energy, or ``MIN_SAVING_PCT`` of running at the
usual time). So a job leaves its usual time only for a forecast saving above
its bar, or when the capacity at its usual time is taken; without a capacity
limit this is exactly ``hold_if_marginal``. Reported grams never include a bar.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from wattwise.errors import BadInput
from wattwise.schedule.jobs import Job
from wattwise.schedule.planner import (
    Assignment,
    Grid,
    TieRule,
    _chunk_dp,
    _list,
    _merge,
    _slot_shape,
    baseline_g,
)

ONE_PIECE = "too few whole slots in the window; run in one piece"


@dataclass(frozen=True, eq=False)
class Starts:
    """One uninterrupted run in ``zone``: candidate starts, grams, occupied slots [lo, hi).

    ``usual`` is the index of the job's usual start among ``s`` (-1: none here).
    """

    zone: str
    s: np.ndarray
    grams: np.ndarray
    lo: np.ndarray
    hi: np.ndarray
    note: str = ""
    usual: int = -1

    def penalty(self, bar: float) -> np.ndarray:
        """What each start costs beyond its grams under the tie rule."""
        pen = np.full(self.s.size, bar)
        if self.usual >= 0:
            pen[self.usual] = 0.0
        return pen


@dataclass(frozen=True, eq=False)
class Slots:
    """An interruptible job on ``zone``'s slots ``first .. first + cost.size``.

    ``k`` work slots, chunks of at least ``m`` work slots, ``r`` overhead slots
    per resumed chunk; ``cost`` is the grams of running in each slot.
    """

    zone: str
    first: int
    cost: np.ndarray
    k: int
    m: int
    r: int
    note: str = ""

    @property
    def chunked(self) -> bool:
        """Whether chunks are constrained (else any ``k`` slots will do)."""
        return self.m > 1 or self.r > 0


Option = Starts | Slots


def options(job: Job, grids: Mapping[str, Grid]) -> list[Option]:
    """The ways ``job`` may run, one per allowed zone, and its usual time.

    The usual start is among the home zone's candidate starts; an interruptible
    job whose home zone is cut into slots gets it as one more (one-start) option.
    """
    out: list[Option] = []
    b = job.baseline_start
    for z in job.zones:
        g = grids[z]
        home = z == job.home_zone
        if job.interruptible:
            first, n, k, m, r, note = _slot_shape(job, g)
            if n >= k:
                cost = g.values[first : first + n] * g.step_s * job.power_w / 3.6e6
                out.append(Slots(z, first, np.asarray(cost, dtype=np.float64), k, m, r, note))
                if home:
                    out.append(_starts(job, g, z, np.array([b]), ""))
                continue
        s = g.starts(job)
        if home:
            s = np.unique(np.append(s, b))
        out.append(_starts(job, g, z, s, ONE_PIECE if job.interruptible else ""))
    return out


def _starts(job: Job, g: Grid, zone: str, s: np.ndarray, note: str) -> Starts:
    lo, hi = g.slot_range(s, s + job.duration_s)
    usual = -1
    if zone == job.home_zone:
        at = np.flatnonzero(s == job.baseline_start)
        usual = int(at[0]) if at.size else -1
    return Starts(zone, s, g.grams(s, s + job.duration_s, job.power_w), lo, hi, note, usual)


def _bars(jobs: Sequence[Job], grids: Mapping[str, Grid],
          rule: TieRule | None) -> list[dict[str, float]]:
    """Per job and zone, what a move there costs beyond its grams (0 without a rule)."""
    out = []
    for j in jobs:
        if rule is None:
            out.append(dict.fromkeys(j.zones, 0.0))
            continue
        base = baseline_g(j, grids[j.home_zone])
        out.append({z: rule.bar_g(j, z, base) for z in j.zones})
    return out


def n_variables(opts: Sequence[Sequence[Option]]) -> int:
    """Variables the MILP would need: what ``plan(method="auto")`` sizes by."""
    total = 0
    for os_ in opts:
        for o in os_:
            if isinstance(o, Starts):
                total += o.s.size
            else:
                n = o.cost.size
                total += 1 + n * (1 + (1 if o.chunked else 0) + (2 if o.r > 0 else 0))
    return total


def _slot_assignment(job: Job, o: Slots, pick: np.ndarray, grids: Mapping[str, Grid]) -> Assignment:
    chunks = _merge(grids[o.zone].edges, o.first + pick)
    return Assignment(job, o.zone, chunks, float(o.cost[pick].sum()),
                      baseline_g(job, grids[job.home_zone]), o.note)


def _flex(os_: Sequence[Option]) -> int:
    """How many ways a job has to move: starts, or free slots beyond its need."""
    return sum(o.s.size if isinstance(o, Starts) else o.cost.size - o.k + 1 for o in os_)


def greedy(jobs: Sequence[Job], grids: Mapping[str, Grid], caps: dict[str, np.ndarray],
           free: Sequence[Assignment] | None = None,
           rule: TieRule | None = None) -> list[Assignment]:
    """Least flexible jobs first (then the biggest); each takes its cheapest fit.

    An interruptible job takes its cheapest slots among those with capacity left
    (with a minimum chunk or resume cost: the chunking optimum over those slots).
    "Cheapest" counts the tie ``rule``'s bar on every option but the usual time.
    ``free`` (each job's capacity-free choice under the same rule, in job order)
    is taken as is wherever it still fits: it is the cheapest option, so the
    choice is the same and the search is skipped.
    """
    left = {z: c.copy() for z, c in caps.items()}
    opts = [options(j, grids) for j in jobs]
    bars = _bars(jobs, grids, rule)
    flex = np.array([_flex(os_) for os_ in opts])
    stake = np.array([j.power_w * j.duration_s * j.resources for j in jobs])
    order = np.lexsort((-stake, flex))
    out: list[Assignment | None] = [None] * len(jobs)
    failed = []
    for idx in order.tolist():
        j = jobs[idx]
        a = _take_if_fits(free[idx], left, grids) if free is not None else None
        if a is None:
            a = _greedy_one(j, opts[idx], left, grids, bars[idx])
        if a is None:
            failed.append(j.name)
        else:
            out[idx] = a
    if failed:
        raise BadInput(_list("job(s) that do not fit the capacity in their window "
                             "(greedy; the milp method may still place them)", failed))
    return [a for a in out if a is not None]


def _take_if_fits(a: Assignment, left: dict[str, np.ndarray],
                  grids: Mapping[str, Grid]) -> Assignment | None:
    """``a`` with its slots taken from ``left``, or None where one lacks capacity."""
    c = np.asarray(a.chunks, dtype=np.float64)
    lo, hi = grids[a.zone].slot_range(c[:, 0], c[:, 1])
    segs = [left[a.zone][x:y] for x, y in zip(lo.tolist(), hi.tolist(), strict=True)]
    if any(seg.size and seg.min() < a.job.resources for seg in segs):
        return None
    for seg in segs:
        seg -= a.job.resources
    return a


def _greedy_one(j: Job, os_: Sequence[Option], left: dict[str, np.ndarray],
                grids: Mapping[str, Grid], bar: Mapping[str, float]) -> Assignment | None:
    """Place one job on the residual capacity ``left`` (updated in place).

    Options are compared on grams plus their tie-rule ``bar`` (none at the usual time).
    """
    conts = [o for o in os_ if isinstance(o, Starts)]
    best: tuple[float, Option, np.ndarray] | None = None
    if conts:
        scores = np.concatenate([o.grams + o.penalty(bar[o.zone]) for o in conts])
        where = [(o, i) for o in conts for i in range(o.s.size)]
        for k in np.argsort(scores, kind="stable").tolist():
            o, i = where[k]
            seg = left[o.zone][o.lo[i] : o.hi[i]]
            if seg.size == 0 or seg.min() >= j.resources:
                best = (float(scores[k]), o, np.array([i]))
                break
    for o in os_:
        if not isinstance(o, Slots):
            continue
        free = left[o.zone][o.first : o.first + o.cost.size] >= j.resources
        cost = np.where(free, o.cost, np.inf)
        if not o.chunked:
            if int(free.sum()) < o.k:
                continue
            pick = np.sort(np.argpartition(cost, o.k - 1)[: o.k])
        else:
            found = _chunk_dp(cost, o.k, o.m, o.r)
            if found is None:
                continue
            pick = found
        score = float(o.cost[pick].sum()) + bar[o.zone]
        if best is None or score < best[0] - 1e-12:
            best = (score, o, pick)
    if best is None:
        return None
    _, o, pick = best
    if isinstance(o, Starts):
        i = int(pick[0])
        left[o.zone][o.lo[i] : o.hi[i]] -= j.resources
        start = float(o.s[i])
        return Assignment(j, o.zone, ((start, start + j.duration_s),), float(o.grams[i]),
                          baseline_g(j, grids[j.home_zone]), o.note)
    left[o.zone][o.first + pick] -= j.resources
    return _slot_assignment(j, o, pick, grids)


class _Model:
    """A sparse MILP built row by row: 0/1 variables unless bounds say otherwise."""

    def __init__(self) -> None:
        self.cost: list[float] = []
        self.ub: list[float] = []
        self.lb: list[float] = []
        self.integer: list[int] = []
        self.r: list[int] = []
        self.c: list[int] = []
        self.v: list[float] = []
        self.lo: list[float] = []
        self.hi: list[float] = []

    def var(self, cost: float = 0.0, *, integer: bool = True) -> int:
        self.cost.append(cost)
        self.lb.append(0.0)
        self.ub.append(1.0)
        self.integer.append(1 if integer else 0)
        return len(self.cost) - 1

    def row(self, terms: Sequence[tuple[int, float]], lo: float, hi: float) -> None:
        i = len(self.lo)
        for col, val in terms:
            self.r.append(i)
            self.c.append(col)
            self.v.append(val)
        self.lo.append(lo)
        self.hi.append(hi)


@dataclass(frozen=True, eq=False)
class _SlotVars:
    option: Slots
    u: int
    x: list[int]


def _add_slots(mdl: _Model, o: Slots) -> _SlotVars:
    """Variables and rows of one interruptible option (see the module docstring)."""
    n, k, m, r = o.cost.size, o.k, o.m, o.r
    inf = np.inf
    u = mdl.var()
    x = [mdl.var(float(c)) for c in o.cost]
    for t in range(n):
        mdl.row([(x[t], 1.0), (u, -1.0)], -inf, 0.0)
    if not o.chunked:
        mdl.row([*((xt, 1.0) for xt in x), (u, -float(k))], 0.0, 0.0)
        return _SlotVars(o, u, x)
    y = [mdl.var() for _ in range(n)]
    for t in range(n):
        prev = [(x[t - 1], 1.0)] if t > 0 else []
        mdl.row([(y[t], 1.0), (x[t], -1.0), *prev], 0.0, inf)  # y_t >= x_t - x_{t-1}
        mdl.row([(y[t], 1.0), (x[t], -1.0)], -inf, 0.0)  # y_t <= x_t
        if t > 0:
            mdl.row([(y[t], 1.0), (x[t - 1], 1.0)], -inf, 1.0)  # y_t <= 1 - x_{t-1}
        for i in range(1, m):  # every chunk runs >= m slots
            if t + i < n:
                mdl.row([(x[t + i], 1.0), (y[t], -1.0)], 0.0, inf)
            else:
                mdl.ub[y[t]] = 0.0
    # slots run = k + r (chunks - 1)
    mdl.row([*((xt, 1.0) for xt in x), *((yt, -float(r)) for yt in y), (u, -float(k - r))],
            0.0, 0.0)
    if r > 0:
        z = [mdl.var() for _ in range(n)]  # the first chunk's start
        p = [mdl.var(integer=False) for _ in range(n)]  # a chunk has started by t
        mdl.row([*((zt, 1.0) for zt in z), (u, -1.0)], 0.0, 0.0)
        for t in range(n):
            mdl.row([(z[t], 1.0), (y[t], -1.0)], -inf, 0.0)
            mdl.row([(p[t], 1.0), (z[t], -1.0), *(((p[t - 1], -1.0),) if t else ())], 0.0, 0.0)
            mdl.row([(y[t], 1.0), (p[t], -1.0)], -inf, 0.0)
            for i in range(m, m + r):  # a resumed chunk runs >= r + m slots
                if t + i < n:
                    mdl.row([(x[t + i], 1.0), (y[t], -1.0), (z[t], 1.0)], 0.0, inf)
                else:
                    mdl.row([(y[t], 1.0), (z[t], -1.0)], -inf, 0.0)
    return _SlotVars(o, u, x)


def milp(jobs: Sequence[Job], grids: Mapping[str, Grid], caps: dict[str, np.ndarray],
         time_limit_s: float, rule: TieRule | None = None) -> tuple[list[Assignment], float]:
    """The optimum under capacity by HiGHS (``scipy.optimize.milp``), and its MIP gap in %.

    The objective is grams plus the tie ``rule``'s bar of every job not at its usual time.
    """
    from scipy.optimize import Bounds, LinearConstraint
    from scipy.optimize import milp as solve
    from scipy.sparse import coo_matrix

    mdl = _Model()
    use: dict[tuple[str, int], list[tuple[int, float]]] = {}
    picks: list[list[tuple[Option, int | _SlotVars, int]]] = []
    for j, bar in zip(jobs, _bars(jobs, grids, rule), strict=True):
        choice: list[tuple[int, float]] = []
        mine: list[tuple[Option, int | _SlotVars, int]] = []
        for o in options(j, grids):
            if isinstance(o, Starts):
                pen = o.penalty(bar[o.zone])
                for i in range(o.s.size):
                    v = mdl.var(float(o.grams[i] + pen[i]))
                    choice.append((v, 1.0))
                    mine.append((o, v, i))
                    for slot in range(int(o.lo[i]), int(o.hi[i])):
                        use.setdefault((o.zone, slot), []).append((v, float(j.resources)))
            else:
                sv = _add_slots(mdl, o)
                mdl.cost[sv.u] = bar[o.zone]  # choosing these slots is a move
                choice.append((sv.u, 1.0))
                mine.append((o, sv, -1))
                for t, xt in enumerate(sv.x):
                    use.setdefault((o.zone, o.first + t), []).append((xt, float(j.resources)))
        mdl.row(choice, 1.0, 1.0)
        picks.append(mine)
    for (z, slot), terms in use.items():
        mdl.row(terms, -np.inf, float(caps[z][slot]))
    n_var = len(mdl.cost)
    a = coo_matrix((mdl.v, (mdl.r, mdl.c)), shape=(len(mdl.lo), n_var)).tocsr()
    cost = np.asarray(mdl.cost)
    scale = max(float(np.max(np.abs(cost))), 1e-12)
    res = solve(cost / scale, constraints=[LinearConstraint(a, mdl.lo, mdl.hi)],
                integrality=np.asarray(mdl.integer), bounds=Bounds(mdl.lb, mdl.ub),
                options={"time_limit": time_limit_s, "mip_rel_gap": 1e-6})
    if res.x is None:
        if res.status == 2:
            try:
                greedy(jobs, grids, caps, rule=rule)
                names = ""
            except BadInput as exc:
                names = f"; {exc}"
            raise BadInput("the capacity cannot hold all jobs inside their windows "
                           f"(infeasible){names}")
        raise BadInput(f"the MILP solver stopped without a plan: {res.message} "
                       f"({n_var} variables; try method='greedy')")
    x = res.x > 0.5
    out = []
    for j, mine in zip(jobs, picks, strict=True):
        for o, ref, i in mine:
            if isinstance(ref, _SlotVars) and isinstance(o, Slots) and x[ref.u]:
                out.append(_slot_assignment(j, o, np.flatnonzero(x[ref.x]), grids))
                break
            if isinstance(ref, int) and isinstance(o, Starts) and x[ref]:
                s = float(o.s[i])
                out.append(Assignment(j, o.zone, ((s, s + j.duration_s),), float(o.grams[i]),
                                      baseline_g(j, grids[j.home_zone]), o.note))
                break
    gap = float(getattr(res, "mip_gap", 0.0) or 0.0) * 100.0
    return out, gap
