"""The capacity greedy places every case the MILP finds feasible; bulk planning is exact."""

from __future__ import annotations

import numpy as np
import pytest

from wattwise.carbon.sources import IntensitySeries
from wattwise.errors import BadInput
from wattwise.schedule import Job, plan
from wattwise.schedule.jobs import validate
from wattwise.schedule.planner import Grid, free_choices
from wattwise.schedule.search import single as _single

H = 3600.0


def small_case(rng: np.random.Generator) -> tuple[list[Job], IntensitySeries, int]:
    """3-10 jobs (a third interruptible, some taking two units) on 8-24 hourly slots."""
    n = int(rng.integers(8, 25))
    s = IntensitySeries(H * np.arange(n), rng.uniform(50, 400, n), "XX", "t", "forecast", H)
    jobs = []
    for i in range(int(rng.integers(3, 11))):
        k = int(rng.integers(1, 4))
        e = int(rng.integers(0, n - k))
        dl = min(n, e + k + int(rng.integers(0, 6)))
        res = int(rng.integers(1, 3))
        if rng.random() < 0.3:
            jobs.append(Job(f"j{i}", k * H, e * H, dl * H, interruptible=True,
                            min_chunk_s=min(float(rng.integers(0, 3)), k) * H,
                            resume_cost_s=float(rng.integers(0, 2)) * H, resources=res))
        else:
            jobs.append(Job(f"j{i}", k * H, e * H, dl * H, resources=res))
    return jobs, s, int(rng.integers(1, 4))


def test_the_greedy_places_every_case_the_milp_finds_feasible() -> None:
    rng = np.random.default_rng(11)
    feasible = optimal = 0
    for _ in range(80):
        jobs, s, cap = small_case(rng)
        try:
            m = plan(jobs, s, capacity={"XX": cap}, method="milp", min_saving_pct=0)
        except BadInput:
            continue
        feasible += 1
        g = plan(jobs, s, capacity={"XX": cap}, method="greedy", min_saving_pct=0)
        assert g.method == "greedy" and len(g.assignments) == len(jobs)
        use = np.zeros(len(s))
        for a in g.assignments:
            for c0, c1 in a.chunks:
                use[int(c0 // H) : int(np.ceil(c1 / H))] += a.job.resources
        assert use.max() <= cap
        assert g.expected_g >= m.expected_g - 1e-6
        optimal += g.expected_g <= m.expected_g + 1e-6
    assert feasible >= 25
    assert optimal >= 0.6 * feasible  # and its gap is reported in BENCHMARKS.md


def test_bulk_planning_gives_each_jobs_own_optimum() -> None:
    rng = np.random.default_rng(3)
    t = 900.0 * np.arange(2000)
    s = IntensitySeries(t, 200 + 50 * np.sin(t / 20000.0) + rng.normal(0, 5, t.size), "XX",
                        "t", "forecast", 900.0)
    grid = Grid(s)
    jobs = []
    for i in range(300):
        e = float(rng.integers(0, 1500)) * 900.0
        d = float(rng.integers(1, 9)) * 1800.0 + float(rng.integers(0, 2)) * 100.0
        w = float(rng.integers(0, 40)) * 900.0
        jobs.append(Job(f"j{i}", d, e, e + d + w, zones=("XX",), power_w=float(1 + i % 7),
                        baseline_start_unix_s=e + w / 2))
    jobs.append(Job("flat", 3600.0, 0.0, 3600.0, zones=("XX",)))  # no room to move
    bulk = free_choices(jobs, {"XX": grid})
    assert bulk == [_single(j, {"XX": grid}) for j in jobs]


def test_bulk_validation_flags_what_the_per_field_check_flags() -> None:
    good = Job("ok", H, 0.0, 2 * H)
    bad = [Job("neg", -1.0, 0.0, H), Job("nan", H, 0.0, float("nan")),
           Job("late", H, 5 * H, 2 * H), Job("base", H, 0.0, 3 * H, baseline_start_unix_s=9 * H),
           Job("res", H, 0.0, 2 * H, resources=0), Job("flag", H, 0.0, 2 * H, interruptible=1),
           Job("bool", True, 0.0, 2 * H)]  # type: ignore[arg-type]
    validate([good] * 1)
    for j in bad:
        with pytest.raises(BadInput, match=f"1 invalid job\\(s\\): {j.name}: "):
            validate([good, j])
