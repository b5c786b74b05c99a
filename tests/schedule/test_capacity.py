"""Interruptible and non-interruptible jobs sharing a capacity, against brute force."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from wattwise.carbon.sources import IntensitySeries
from wattwise.errors import BadInput
from wattwise.schedule import Job, Plan, plan

H = 3600.0


def series(values: list[float]) -> IntensitySeries:
    return IntensitySeries(H * np.arange(len(values)), np.asarray(values, float), "XX", "test",
                           "forecast", H)


def runs(slots: tuple[int, ...]) -> list[int]:
    out: list[int] = []
    prev = -2
    for s in slots:
        if s == prev + 1:
            out[-1] += 1
        else:
            out.append(1)
        prev = s
    return out


def ways(job: Job) -> list[tuple[int, ...]]:
    """Every set of hourly slots the job may run in (the planner's model, spelled out)."""
    e, d = int(job.earliest_start_unix_s // H), int(job.deadline_unix_s // H)
    k = int(job.duration_s // H)
    if not job.interruptible:
        return [tuple(range(s, s + k)) for s in range(e, d - k + 1)]
    # a minimum chunk longer than the job means: run it in one piece
    m, r = min(max(int(job.min_chunk_s // H), 1), k), int(job.resume_cost_s // H)
    out = []
    for size in range(k, d - e + 1):
        for sel in itertools.combinations(range(e, d), size):
            rs = runs(sel)
            work = [rs[0]] + [n - r for n in rs[1:]]
            if sum(work) == k and min(work) >= m:
                out.append(sel)
    return out


def brute(jobs: list[Job], vals: list[float], cap: int) -> float:
    best = np.inf
    for combo in itertools.product(*(ways(j) for j in jobs)):
        use = np.zeros(len(vals))
        for sel in combo:
            use[list(sel)] += 1
        if use.max() <= cap:
            best = min(best, sum(vals[s] for sel in combo for s in sel))
    return best


def check(p: Plan, jobs: list[Job], n_slots: int, cap: int) -> None:
    """Every job placed once, in its window, with legal chunks, within the capacity."""
    assert sorted(a.job.name for a in p.assignments) == sorted(j.name for j in jobs)
    use = np.zeros(n_slots)
    for a in p.assignments:
        sel = tuple(s for c0, c1 in a.chunks for s in range(int(c0 // H), int(c1 // H)))
        assert sel in ways(a.job), (a.job.name, sel)
        use[list(sel)] += 1
    assert use.max() <= cap


def test_milp_matches_brute_force_on_random_mixed_instances() -> None:
    rng = np.random.default_rng(5)
    solved = 0
    for _ in range(25):
        vals = list(rng.integers(1, 20, 7).astype(float))
        jobs = [Job("fixed", float(rng.integers(1, 3)) * H, 0.0, 7 * H)]
        for i in range(2):
            e = int(rng.integers(0, 2))
            d = float(rng.integers(1, 4)) * H  # a chunk past the whole job is refused
            jobs.append(Job(f"int{i}", d, e * H, 7 * H,
                            interruptible=True, min_chunk_s=min(float(rng.integers(0, 3)) * H, d),
                            resume_cost_s=float(rng.integers(0, 2)) * H))
        cap = int(rng.integers(1, 3))
        want = brute(jobs, vals, cap)
        if not np.isfinite(want):
            with pytest.raises(BadInput, match="infeasible"):
                plan(jobs, series(vals), capacity={"XX": cap}, method="milp")
            continue
        # No tie bar here: the solver's optimum is the least grams (the bar's own
        # brute force is in test_capacity_ties).
        p = plan(jobs, series(vals), capacity={"XX": cap}, method="milp", min_saving_pct=0)
        assert p.method == "milp"
        assert p.expected_g == pytest.approx(want)
        check(p, jobs, 7, cap)
        solved += 1
        try:
            g = plan(jobs, series(vals), capacity={"XX": cap}, method="greedy", min_saving_pct=0)
        except BadInput:
            continue
        check(g, jobs, 7, cap)
        assert g.expected_g >= want - 1e-9
        assert g.gap_pct == pytest.approx(100 * (g.expected_g - g.lower_bound_g)
                                          / g.lower_bound_g)
    assert solved >= 15


def test_capacity_binding_spreads_two_interruptible_jobs() -> None:
    jobs = [Job(n, 2 * H, 0, 4 * H, interruptible=True) for n in ("a", "b")]
    vals = [1, 2, 8, 8]
    wide = plan(jobs, series(vals), capacity={"XX": 2})
    assert wide.expected_g == pytest.approx(6.0)  # both take the two cheap slots
    tight = plan(jobs, series(vals), capacity={"XX": 1})
    assert tight.expected_g == pytest.approx(19.0) == brute(jobs, vals, 1)
    check(tight, jobs, 4, 1)
    assert tight.lower_bound_g == pytest.approx(6.0)


def test_min_chunk_binding_under_capacity() -> None:
    vals = [1, 9, 1, 9, 1, 5, 5]
    a = Job("a", 2 * H, 0, 7 * H, interruptible=True, min_chunk_s=2 * H)
    pin = Job("pin", H, 4 * H, 5 * H)  # takes the only slot next to the cheap 1 at 4 h
    p = plan([a, pin], series(vals), capacity={"XX": 1}, method="milp")
    assert p.expected_g == pytest.approx(brute([a, pin], vals, 1)) == pytest.approx(11.0)
    check(p, [a, pin], 7, 1)
    assert all(c1 - c0 >= 2 * H for c0, c1 in p.by_job()["a"].chunks)
    free = Job("a", 2 * H, 0, 7 * H, interruptible=True)
    assert plan([free, pin], series(vals), capacity={"XX": 1}).expected_g == pytest.approx(3.0)


def test_resume_cost_makes_one_contiguous_chunk_win() -> None:
    vals = [2, 9, 2, 9, 4, 4]
    pin = Job("pin", H, H, 2 * H)
    cheap = Job("a", 2 * H, 0, 6 * H, interruptible=True)
    p0 = plan([cheap, pin], series(vals), capacity={"XX": 1}, method="milp")
    assert p0.by_job()["a"].chunks == ((0.0, H), (2 * H, 3 * H))
    costly = Job("a", 2 * H, 0, 6 * H, interruptible=True, resume_cost_s=H)
    p1 = plan([costly, pin], series(vals), capacity={"XX": 1}, method="milp")
    assert p1.by_job()["a"].chunks == ((4 * H, 6 * H),)
    assert p1.expected_g == pytest.approx(brute([costly, pin], vals, 1)) == pytest.approx(17.0)
    g = plan([costly, pin], series(vals), capacity={"XX": 1}, method="greedy")
    assert g.by_job()["a"].chunks == ((4 * H, 6 * H),)


def test_deadlines_and_earliest_starts_hold_for_interruptible_jobs() -> None:
    vals = [1, 1, 50, 50, 50, 1, 1, 50]
    jobs = [Job("late", 2 * H, 2 * H, 5 * H, interruptible=True),
            Job("early", 2 * H, 0, 3 * H, interruptible=True, min_chunk_s=H)]
    for method in ("milp", "greedy"):
        p = plan(jobs, series(vals), capacity={"XX": 1}, method=method)
        for a in p.assignments:
            assert a.start_unix_s >= a.job.earliest_start_unix_s
            assert a.end_unix_s <= a.job.deadline_unix_s
        check(p, jobs, len(vals), 1)


def test_infeasible_capacity_names_the_interruptible_jobs() -> None:
    jobs = [Job("block", 2 * H, 0, 3 * H),
            Job("chunky", 2 * H, 0, 3 * H, interruptible=True, min_chunk_s=H),
            Job("other", H, 0, 3 * H, interruptible=True)]
    with pytest.raises(BadInput, match=r"infeasible.*(chunky|other)"):
        plan(jobs, series([1.0] * 4), capacity={"XX": 1}, method="milp")
    with pytest.raises(BadInput, match=r"do not fit the capacity.*(chunky|other)"):
        plan(jobs, series([1.0] * 4), capacity={"XX": 1}, method="greedy")


def test_auto_plans_interruptible_jobs_under_capacity_instead_of_refusing() -> None:
    jobs = [Job("i", 2 * H, 0, 4 * H, interruptible=True, resume_cost_s=H),
            Job("n", H, 0, 4 * H)]
    p = plan(jobs, series([3, 1, 4, 1]), capacity={"XX": 1})
    assert p.method == "milp" and len(p.assignments) == 2
    assert p.expected_g == pytest.approx(brute(jobs, [3, 1, 4, 1], 1))


def test_a_resumed_chunk_holds_its_overhead_plus_a_full_minimum_chunk() -> None:
    vals = [1, 1, 9, 1, 1, 9, 9]
    a = Job("a", 3 * H, 0, 7 * H, interruptible=True, min_chunk_s=2 * H, resume_cost_s=H)
    pin = Job("pin", H, 6 * H, 7 * H)
    # {0,1} + {3,4} would cost 4 but its second chunk is 1 h overhead + 1 h work (< 2 h).
    for method in ("milp", "greedy"):
        p = plan([a, pin], series(vals), capacity={"XX": 1}, method=method)
        assert p.expected_g == pytest.approx(brute([a, pin], vals, 1)) == pytest.approx(20.0)
        check(p, [a, pin], 7, 1)
