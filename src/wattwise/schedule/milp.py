"""The exact plan under capacity: a MILP solved by HiGHS (``scipy.optimize.milp``).

A non-interruptible option is a 0/1 choice of start; an interruptible one has a
run variable per slot with chunk-start indicators for the minimum chunk and the
resume cost (the model is spelled out in ``capacity``). Where the capacity cannot
hold the jobs, the greedy heuristic names the ones that do not fit.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from wattwise.errors import BadInput
from wattwise.schedule._slots import Grid, baseline_g
from wattwise.schedule.greedy import greedy
from wattwise.schedule.jobs import Job
from wattwise.schedule.options import Option, Slots, Starts, move_bars, options, slot_assignment
from wattwise.schedule.placement import at
from wattwise.schedule.result import Assignment
from wattwise.schedule.ties import TieRule


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
         time_limit_s: float, rule: TieRule | None = None, *,
         choices: Sequence[Assignment] | None = None) -> tuple[list[Assignment], float]:
    """The optimum under capacity by HiGHS (``scipy.optimize.milp``), and its MIP gap in %.

    The objective is grams plus the tie ``rule``'s bar of every job not at its usual time.
    """
    from scipy.optimize import Bounds, LinearConstraint
    from scipy.optimize import milp as solve
    from scipy.sparse import coo_matrix

    mdl = _Model()
    use: dict[tuple[str, int], list[tuple[int, float]]] = {}
    picks: list[list[tuple[Option, int | _SlotVars, int]]] = []
    for j, bar in zip(jobs, move_bars(jobs, grids, rule, choices), strict=True):
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
                greedy(jobs, grids, caps, rule=rule, search=False)
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
                out.append(slot_assignment(j, o, np.flatnonzero(x[ref.x]), grids))
                break
            if isinstance(ref, int) and isinstance(o, Starts) and x[ref]:
                s = float(o.s[i])
                jz = at(j, o.zone)
                out.append(Assignment(jz, o.zone, ((s, s + jz.duration_s),), float(o.grams[i]),
                                      baseline_g(j, grids[j.home_zone]), o.note))
                break
    gap = float(getattr(res, "mip_gap", 0.0) or 0.0) * 100.0
    return out, gap
