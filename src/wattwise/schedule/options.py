"""The ways one job may run under a capacity limit, as the capacity solvers see them.

Every job is a set of *options*, one per allowed zone (see ``capacity`` for the
model): ``Starts``, one uninterrupted run among the candidate starts that contain
the optimum, or ``Slots``, an interruptible job on the zone's whole slots; the
home zone also offers the job's usual time. ``move_bars`` prices each move under the
tie rule; ``n_variables`` sizes the MILP, which ``plan(method="auto")`` decides by.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from wattwise.schedule._slots import Grid, baseline_g, merge, slot_shape
from wattwise.schedule.jobs import Job
from wattwise.schedule.placement import at
from wattwise.schedule.result import Assignment
from wattwise.schedule.ties import TieRule

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
        jz = at(job, z)  # its duration and power on that site's node type
        if job.interruptible:
            first, n, k, m, r, note = slot_shape(jz, g)
            if n >= k:
                cost = g.values[first : first + n] * g.step_s * jz.power_w / 3.6e6
                out.append(Slots(z, first, np.asarray(cost, dtype=np.float64), k, m, r, note))
                if home:
                    out.append(_starts(jz, g, z, np.array([b]), ""))
                continue
        s = g.starts(jz)
        if home:
            s = np.unique(np.append(s, b))
        out.append(_starts(jz, g, z, s, ONE_PIECE if job.interruptible else ""))
    return out


def _starts(job: Job, g: Grid, zone: str, s: np.ndarray, note: str) -> Starts:
    lo, hi = g.slot_range(s, s + job.duration_s)
    usual = -1
    if zone == job.home_zone:
        at = np.flatnonzero(s == job.baseline_start)
        usual = int(at[0]) if at.size else -1
    return Starts(zone, s, g.grams(s, s + job.duration_s, job.power_w), lo, hi, note, usual)


def move_bars(jobs: Sequence[Job], grids: Mapping[str, Grid], rule: TieRule | None,
          choices: Sequence[Assignment] | None = None) -> list[dict[str, float]]:
    """Per job and zone, what a move there costs beyond its grams (0 without a rule);
    ``choices`` (each job's capacity-free choice) lets a rule with error scenarios
    price the move it would make."""
    out = []
    for i, j in enumerate(jobs):
        if rule is None:
            out.append(dict.fromkeys(j.zones, 0.0))
            continue
        base = baseline_g(j, grids[j.home_zone])
        free = None if choices is None else choices[i]
        out.append({z: rule.bar_g(j, z, base, free) for z in j.zones})
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


def slot_assignment(job: Job, o: Slots, pick: np.ndarray, grids: Mapping[str, Grid]) -> Assignment:
    """``job`` run in slots ``pick`` of ``o`` (indices from ``o.first``), as an assignment."""
    chunks = merge(grids[o.zone].edges, o.first + pick)
    return Assignment(at(job, o.zone), o.zone, chunks, float(o.cost[pick].sum()),
                      baseline_g(job, grids[job.home_zone]), o.note)
