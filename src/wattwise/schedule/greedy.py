"""The greedy heuristic for capacity: for batches too large for the MILP.

Least flexible jobs first, each takes its cheapest option that still fits; a job
that fits nowhere is placed by moving jobs out of its way (then other orders,
then a bounded search for small batches), and displaced jobs are improved. The
model (options, the tie rule's bars) is the MILP's (``capacity``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from wattwise.errors import BadInput
from wattwise.schedule._slots import Grid, baseline_g, chunk_dp
from wattwise.schedule.jobs import Job, listed
from wattwise.schedule.options import Option, Slots, Starts, move_bars, options, slot_assignment
from wattwise.schedule.placement import at
from wattwise.schedule.result import Assignment
from wattwise.schedule.ties import TieRule, is_usual


def _flex(os_: Sequence[Option]) -> int:
    """How many ways a job has to move: starts, or free slots beyond its need."""
    return sum(o.s.size if isinstance(o, Starts) else o.cost.size - o.k + 1 for o in os_)


#: Most ejections one greedy run may try while repairing jobs that did not fit.
REPAIR_BUDGET = 4_000

#: Most jobs one ejection may move out of the way.
MAX_EJECT = 2

#: Places a repaired job tries once the jobs in its way are out.
PLACES_TRIED = 6

#: Job orders tried (after the first) when repair leaves jobs unplaced.
RESTARTS = 8

#: Improvement passes over the jobs the capacity pushed off their free choice.
IMPROVE_PASSES = 3

#: Batches this small that still do not fit get a depth-first search of placements...
SEARCH_MAX_JOBS = 60

#: ...that gives up after this many placements tried.
SEARCH_BUDGET = 20_000


class _State:
    """Residual capacity, the placement of each job, which jobs hold each slot, and an
    undo log: ``mark()`` then ``rollback(mark)`` undoes every take and release since."""

    def __init__(self, jobs: Sequence[Job], grids: Mapping[str, Grid],
                 caps: dict[str, np.ndarray]) -> None:
        self.jobs, self.grids = jobs, grids
        self.left = {z: c.copy() for z, c in caps.items()}
        self.out: list[Assignment | None] = [None] * len(jobs)
        self.use: list[list[tuple[str, int, int]] | None] = [None] * len(jobs)
        self.held: dict[str, dict[int, set[int]]] = {z: {} for z in caps}
        self._log: list[tuple[bool, int, Assignment, list[tuple[str, int, int]]]] = []

    def usage(self, a: Assignment) -> list[tuple[str, int, int]]:
        c = np.asarray(a.chunks, dtype=np.float64)
        lo, hi = self.grids[a.zone].slot_range(c[:, 0], c[:, 1])
        return [(a.zone, x, y) for x, y in zip(lo.tolist(), hi.tolist(), strict=True) if y > x]

    def fits(self, use: list[tuple[str, int, int]], res: int) -> bool:
        return all(self.left[z][x:y].min() >= res for z, x, y in use)

    def _apply(self, i: int, a: Assignment, use: list[tuple[str, int, int]],
               taking: bool) -> None:
        sign = -1 if taking else 1
        for z, x, y in use:
            self.left[z][x:y] += sign * a.job.resources
            held = self.held[z]
            for slot in range(x, y):
                if taking:
                    held.setdefault(slot, set()).add(i)
                else:
                    held[slot].discard(i)
        if taking:
            self.out[i], self.use[i] = a, use
        else:
            self.out[i] = self.use[i] = None

    def take(self, i: int, a: Assignment, use: list[tuple[str, int, int]] | None = None) -> None:
        use = self.usage(a) if use is None else use
        self._apply(i, a, use, True)
        self._log.append((True, i, a, use))

    def release(self, i: int) -> None:
        a, use = self.out[i], self.use[i]
        assert a is not None and use is not None
        self._apply(i, a, use, False)
        self._log.append((False, i, a, use))

    def mark(self) -> int:
        return len(self._log)

    def rollback(self, mark: int) -> None:
        while len(self._log) > mark:
            took, i, a, use = self._log.pop()
            self._apply(i, a, use, not took)

    def blockers(self, use: list[tuple[str, int, int]], res: int) -> set[int]:
        """Placed jobs that hold a slot ``use`` needs and lacks (empty if it fits)."""
        out: set[int] = set()
        for z, x, y in use:
            for slot in (x + np.flatnonzero(self.left[z][x:y] < res)).tolist():
                out |= self.held[z].get(slot, set())
        return out

    def overlapping(self, zone: str, lo: int, hi: int) -> list[int]:
        """Placed jobs using any slot of ``zone`` in ``[lo, hi)``, most overlap first."""
        count: dict[int, int] = {}
        held = self.held[zone]
        for slot in range(lo, hi):
            for k in held.get(slot, ()):
                count[k] = count.get(k, 0) + 1
        return sorted(count, key=lambda k: (-count[k], k))


def greedy(jobs: Sequence[Job], grids: Mapping[str, Grid], caps: dict[str, np.ndarray],
           free: Sequence[Assignment] | None = None,
           rule: TieRule | None = None, *,
           choices: Sequence[Assignment] | None = None,
           search: bool = True) -> list[Assignment]:
    """Least flexible jobs first (then the biggest); each takes its cheapest fit; then
    jobs that did not fit are repaired and displaced ones improved.

    An interruptible job takes its cheapest slots among those with capacity left
    (with a minimum chunk or resume cost: the chunking optimum over those slots).
    "Cheapest" counts the tie ``rule``'s bar on every option but the usual time
    (``choices``: each job's capacity-free choice, which a rule with error
    scenarios prices its bar on). ``free`` (each job's capacity-free choice under
    the rule, in job order) is taken as is wherever it still fits: it is the
    cheapest option, so the choice is the same and the search is skipped.

    A job that fits nowhere is placed by moving up to ``MAX_EJECT`` placed jobs out
    of its way and placing them again (recursively, within ``REPAIR_BUDGET``
    tries); if some still do not fit, other job orders are tried (by latest
    start, by slack, then shuffled), and a batch of at most ``SEARCH_MAX_JOBS``
    jobs gets a bounded depth-first search (``search``). Last, each job the
    capacity pushed off its cheapest option tries again, alone and by swapping with
    the one job in its way, and keeps any change that lowers the total.
    """
    opts = [options(j, grids) for j in jobs]
    bars = move_bars(jobs, grids, rule, choices)
    flex = np.array([_flex(os_) for os_ in opts])
    stake = np.array([j.power_w * j.duration_s * j.resources for j in jobs])
    late = np.array([j.latest_start_unix_s for j in jobs])
    slack = np.array([j.deadline_unix_s - j.earliest_start_unix_s - j.duration_s for j in jobs])
    rng = np.random.default_rng(0)
    orders = [np.lexsort((-stake, flex)), np.lexsort((-stake, late)),
              np.lexsort((-stake, slack))]
    orders += [rng.permutation(len(jobs)) for _ in range(max(RESTARTS - 3, 0))]
    failed: list[int] = []
    best: _State | None = None
    for order in orders:
        st = _State(jobs, grids, caps)
        fixer = _Repair(st, opts, bars)
        failed = []
        for idx in order.tolist():
            a = free[idx] if free is not None else None
            if a is not None:
                use = st.usage(a)
                if st.fits(use, a.job.resources):
                    st.take(idx, a, use)
                    continue
            a = _greedy_one(jobs[idx], opts[idx], st.left, grids, bars[idx])
            if a is not None:
                st.take(idx, a)
            elif not fixer.repair(idx, depth=2, pinned={idx}):
                failed.append(idx)
        if not failed:
            best = st
            break
    if best is None and search and len(jobs) <= SEARCH_MAX_JOBS:
        best = _search(jobs, grids, caps, opts, bars, orders[0])
    if best is None:
        raise BadInput(listed("job(s) that do not fit the capacity in their window "
                             "(greedy, after repair, restarts and a bounded search; the milp "
                             "method may still place them)", [jobs[i].name for i in failed]))
    _improve(best, opts, bars, free)
    return [a for a in best.out if a is not None]


def _search(jobs: Sequence[Job], grids: Mapping[str, Grid], caps: dict[str, np.ndarray],
            opts: Sequence[Sequence[Option]], bars: Sequence[Mapping[str, float]],
            order: np.ndarray) -> _State | None:
    """Depth-first search over each job's fitting places (least flexible job first,
    cheapest place first; an interruptible job tries its cheapest, earliest and latest
    fitting slots), within ``SEARCH_BUDGET`` places; the first complete placement."""
    st = _State(jobs, grids, caps)
    budget = [SEARCH_BUDGET]
    seq = order.tolist()

    def places(i: int) -> list[Assignment]:
        j = jobs[i]
        out = _fitting(j, opts[i], st.left, grids, bars[i], 1_000_000)
        for o in opts[i]:
            if isinstance(o, Slots):
                for tilt in (1.0, -1.0):  # the earliest, then the latest fitting slots
                    pick = _slot_pick(o, st.left, j.resources, tilt)
                    if pick is not None:
                        a = slot_assignment(j, o, pick, grids)
                        if all(b.chunks != a.chunks for b in out):
                            out.append(a)
        return out

    def go(depth: int) -> bool:
        if depth == len(seq):
            return True
        i = seq[depth]
        for a in places(i):
            if budget[0] <= 0:
                return False
            budget[0] -= 1
            mark = st.mark()
            st.take(i, a)
            if go(depth + 1):
                return True
            st.rollback(mark)
        return False

    return st if go(0) else None


def _score(a: Assignment, bar: Mapping[str, float]) -> float:
    """Grams plus the tie-rule bar, unless ``a`` is its job's usual time."""
    return a.expected_g + (0.0 if is_usual(a) else bar[a.zone])


class _Repair:
    """Places a job that fits nowhere by moving placed jobs out of its way."""

    def __init__(self, st: _State, opts: Sequence[Sequence[Option]],
                 bars: Sequence[Mapping[str, float]]) -> None:
        self.st, self.opts, self.bars = st, opts, bars
        self.budget = REPAIR_BUDGET

    def _ejections(self, i: int) -> list[frozenset[int]]:
        """Sets of placed jobs whose removal may let job ``i`` in, likeliest first."""
        st, j = self.st, self.st.jobs[i]
        sets: dict[frozenset[int], float] = {}
        for o in self.opts[i]:
            if isinstance(o, Starts):
                scores = o.grams + o.penalty(self.bars[i][o.zone])
                for k in np.argsort(scores, kind="stable").tolist():
                    use = [(o.zone, int(o.lo[k]), int(o.hi[k]))]
                    b = frozenset(st.blockers(use, j.resources))
                    if 0 < len(b) <= MAX_EJECT and b not in sets:
                        sets[b] = float(scores[k])
            else:
                for k in st.overlapping(o.zone, o.first, o.first + o.cost.size)[:8]:
                    sets.setdefault(frozenset({k}), float(o.cost.sum()))
        return sorted(sets, key=lambda b: (len(b), sets[b]))

    def repair(self, i: int, depth: int, pinned: set[int]) -> bool:
        st = self.st
        for eject in self._ejections(i):
            if eject & pinned:
                continue
            if self.budget <= 0:
                return False
            self.budget -= 1
            snap = st.mark()
            for k in eject:
                st.release(k)
            freed = st.mark()
            for a in _fitting(st.jobs[i], self.opts[i], st.left, st.grids, self.bars[i],
                              PLACES_TRIED):
                st.take(i, a)
                ok = True
                for k in sorted(eject):
                    b = _greedy_one(st.jobs[k], self.opts[k], st.left, st.grids, self.bars[k])
                    if b is not None:
                        st.take(k, b)
                    elif not (depth > 0 and self.repair(k, depth - 1, pinned | {i, k})):
                        ok = False
                        break
                if ok:
                    return True
                st.rollback(freed)
            st.rollback(snap)
        return False


def _improve(st: _State, opts: Sequence[Sequence[Option]], bars: Sequence[Mapping[str, float]],
             free: Sequence[Assignment] | None) -> None:
    """Jobs above their capacity-free score try a better place, alone or by a swap.

    Jobs with a chunked interruptible option are left as placed: re-running their
    chunking search for every try would cost more than the few grams it finds."""
    n = len(st.jobs)
    ideal = [-np.inf if free is None else _score(free[i], bars[i]) for i in range(n)]
    costly = [any(isinstance(o, Slots) and o.chunked for o in opts[i]) for i in range(n)]
    for _ in range(IMPROVE_PASSES):
        changed = False
        cur = [_score(a, bars[i]) if a is not None else np.inf for i, a in enumerate(st.out)]
        todo = [i for i in range(n) if cur[i] > ideal[i] + 1e-9 and not costly[i]]
        todo.sort(key=lambda i: ideal[i] - cur[i])
        for i in todo:
            a0 = st.out[i]
            assert a0 is not None
            before = _score(a0, bars[i])
            mark = st.mark()
            st.release(i)
            a = _greedy_one(st.jobs[i], opts[i], st.left, st.grids, bars[i])
            if a is not None and _score(a, bars[i]) < before - 1e-9:
                st.take(i, a)
                changed = True
                continue
            if free is None:
                st.rollback(mark)
                continue
            # Swap: move the one job in the way of the free choice, if the pair gains.
            use = st.usage(free[i])
            way = st.blockers(use, st.jobs[i].resources)
            if len(way) != 1:
                st.rollback(mark)
                continue
            (k,) = way
            ak = st.out[k]
            assert ak is not None
            pair = before + _score(ak, bars[k])
            st.release(k)
            if not st.fits(use, st.jobs[i].resources):
                st.rollback(mark)
                continue
            st.take(i, free[i], use)
            b = _greedy_one(st.jobs[k], opts[k], st.left, st.grids, bars[k])
            if b is not None and _score(free[i], bars[i]) + _score(b, bars[k]) < pair - 1e-9:
                st.take(k, b)
                changed = True
            else:
                st.rollback(mark)
        if not changed:
            break


def _greedy_one(j: Job, os_: Sequence[Option], left: dict[str, np.ndarray],
                grids: Mapping[str, Grid], bar: Mapping[str, float]) -> Assignment | None:
    """The cheapest way to run one job on the residual capacity ``left`` (the caller
    takes its slots), or None where none fits.

    Options are compared on grams plus their tie-rule ``bar`` (none at the usual time).
    """
    got = _fitting(j, os_, left, grids, bar, 1)
    return got[0] if got else None


def _slot_pick(o: Slots, left: dict[str, np.ndarray], res: int,
               tilt: float = 0.0) -> np.ndarray | None:
    """The cheapest slots of ``o`` with ``res`` units left (the chunking optimum where
    chunks are constrained); ``tilt`` > 0 prefers the earliest slots, < 0 the latest."""
    free = left[o.zone][o.first : o.first + o.cost.size] >= res
    cost = o.cost if tilt == 0 else tilt * np.arange(o.cost.size, dtype=np.float64)
    cost = np.where(free, cost, np.inf)
    if not o.chunked:
        if int(free.sum()) < o.k:
            return None
        return np.sort(np.argpartition(cost, o.k - 1)[: o.k])
    return chunk_dp(cost, o.k, o.m, o.r)


def _fitting(j: Job, os_: Sequence[Option], left: dict[str, np.ndarray],
             grids: Mapping[str, Grid], bar: Mapping[str, float],
             limit: int) -> list[Assignment]:
    """Up to ``limit`` ways to run the job that fit ``left``, cheapest first: uninterrupted
    starts in score order, and each interruptible option's cheapest fitting slots."""
    found: list[tuple[float, Option, np.ndarray]] = []
    conts = [o for o in os_ if isinstance(o, Starts)]
    if conts:
        scores = np.concatenate([o.grams + o.penalty(bar[o.zone]) for o in conts])
        where = [(o, i) for o in conts for i in range(o.s.size)]
        for k in np.argsort(scores, kind="stable").tolist():
            o, i = where[k]
            seg = left[o.zone][o.lo[i] : o.hi[i]]
            if seg.size == 0 or seg.min() >= j.resources:
                found.append((float(scores[k]), o, np.array([i])))
                if len(found) >= limit:
                    break
    for o in os_:
        if not isinstance(o, Slots):
            continue
        pick = _slot_pick(o, left, j.resources)
        if pick is not None:
            found.append((float(o.cost[pick].sum()) + bar[o.zone], o, pick))
    found.sort(key=lambda f: f[0])  # stable: among equal scores, uninterrupted first
    out = []
    for _, o, pick in found[:limit]:
        if isinstance(o, Starts):
            i = int(pick[0])
            start = float(o.s[i])
            jz = at(j, o.zone)
            out.append(Assignment(jz, o.zone, ((start, start + jz.duration_s),),
                                  float(o.grams[i]), baseline_g(j, grids[j.home_zone]), o.note))
        else:
            out.append(slot_assignment(j, o, pick, grids))
    return out
