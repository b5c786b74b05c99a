"""Under a capacity limit a job still moves only for a forecast saving above its bar."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from wattwise.carbon.sources import IntensitySeries
from wattwise.schedule import Job, Plan, plan

H = 3600.0
METHODS = ("milp", "greedy")


def series(values: list[float]) -> IntensitySeries:
    return IntensitySeries(H * np.arange(len(values)), np.asarray(values, float), "XX", "test",
                           "forecast", H)


def usual_job(name: str = "nightly", at_h: int = 3) -> Job:
    # Usual start at hour ``at_h``, movable anywhere in hours 0-8.
    return Job(name, H, 0.0, 8 * H, zones=("XX",), baseline_start_unix_s=at_h * H)


@pytest.mark.parametrize("method", METHODS)
def test_a_flat_forecast_under_capacity_keeps_the_job_at_its_usual_time(method: str) -> None:
    p = plan([usual_job()], series([300.0] * 8), capacity={"XX": 1}, method=method)
    (a,) = p.assignments
    assert p.method == method
    assert a.chunks == ((3 * H, 4 * H),)
    assert "not moved" in a.note and "1 % threshold" in a.note
    assert any("kept at their usual time" in n for n in p.notes)


@pytest.mark.parametrize("method", METHODS)
def test_a_saving_within_the_threshold_does_not_move_a_job_under_capacity(method: str) -> None:
    values = [300.0] * 8
    values[0] = 298.0  # 0.7 % cleaner: within the 1 % bar
    p = plan([usual_job()], series(values), capacity={"XX": 1}, method=method)
    assert p.assignments[0].start_unix_s == 3 * H
    assert p.expected_g == pytest.approx(p.baseline_g)


@pytest.mark.parametrize("method", METHODS)
def test_a_real_saving_still_moves_a_job_under_capacity(method: str) -> None:
    values = [300.0] * 8
    values[6] = 150.0
    (a,) = plan([usual_job()], series(values), capacity={"XX": 1}, method=method).assignments
    assert a.start_unix_s == 6 * H and a.note == ""


@pytest.mark.parametrize("method", METHODS)
def test_the_forecasts_own_error_sets_the_bar_under_capacity(method: str) -> None:
    values = [300.0] * 8
    values[6] = 270.0  # 30 g/kWh cleaner
    job = usual_job()
    moved = plan([job], series(values), capacity={"XX": 1}, method=method,
                 forecast_error_g_per_kwh={"XX": 10.0})
    assert moved.assignments[0].start_unix_s == 6 * H
    kept = plan([job], series(values), capacity={"XX": 1}, method=method,
                forecast_error_g_per_kwh={"XX": 40.0})
    assert kept.assignments[0].start_unix_s == 3 * H
    assert "error estimate (40 gCO2eq/kWh" in kept.assignments[0].note


@pytest.mark.parametrize("method", METHODS)
def test_a_taken_usual_slot_moves_only_the_job_that_must_move(method: str) -> None:
    values = [300.0] * 8
    values[0] = 299.0  # marginally cleaner: not worth a move on its own
    jobs = [usual_job("a"), usual_job("b")]
    p = plan(jobs, series(values), capacity={"XX": 1}, method=method)
    starts = sorted(a.start_unix_s for a in p.assignments)
    # One keeps the usual hour; the other must go, and goes to the cleanest free hour.
    assert starts == [0.0, 3 * H]


@pytest.mark.parametrize("method", METHODS)
def test_an_interruptible_job_on_a_flat_forecast_keeps_its_usual_time(method: str) -> None:
    job = Job("chunky", 2 * H, 0.0, 8 * H, zones=("XX",), interruptible=True,
              baseline_start_unix_s=2 * H)
    (a,) = plan([job], series([300.0] * 8), capacity={"XX": 1}, method=method).assignments
    assert a.chunks == ((2 * H, 4 * H),)


def test_the_milp_optimum_counts_every_move_at_its_bar_as_brute_force_does() -> None:
    # Brute force over hourly placements: grams plus the bar of each job not at its
    # usual hour (the forecast error times the job's energy), and capacity.
    rng = np.random.default_rng(11)
    err = 1.5  # gCO2eq/kWh, comparable to the integer differences between hours
    checked = 0
    for _ in range(20):
        vals = [float(v) for v in rng.integers(10, 20, 6)]
        jobs = [Job(f"j{i}", float(rng.integers(1, 3)) * H, 0.0, 6 * H, zones=("XX",),
                    baseline_start_unix_s=float(rng.integers(0, 3)) * H) for i in range(3)]
        cap = int(rng.integers(1, 3))
        want = _brute(jobs, vals, cap, err)
        if not np.isfinite(want):
            continue
        p = plan(jobs, series(vals), capacity={"XX": cap}, method="milp",
                 forecast_error_g_per_kwh={"XX": err})
        assert _objective(p, err) == pytest.approx(want)
        checked += 1
    assert checked >= 10


def _ways(job: Job) -> list[tuple[int, ...]]:
    e, d, k = int(job.earliest_start_unix_s // H), int(job.deadline_unix_s // H), \
        int(job.duration_s // H)
    return [tuple(range(s, s + k)) for s in range(e, d - k + 1)]


def _brute(jobs: list[Job], vals: list[float], cap: int, err: float) -> float:
    best = np.inf
    for combo in itertools.product(*(_ways(j) for j in jobs)):
        use = np.zeros(len(vals))
        for sel in combo:
            use[list(sel)] += 1
        if use.max() > cap:
            continue
        cost = 0.0
        for j, sel in zip(jobs, combo, strict=True):
            cost += sum(vals[s] for s in sel)
            if sel[0] != int(j.baseline_start // H):
                cost += err * j.duration_s / H  # 1 kW: g/kWh x kWh
        best = min(best, cost)
    return best


def _objective(p: Plan, err: float) -> float:
    total = p.expected_g
    for a in p.assignments:
        if a.start_unix_s != a.job.baseline_start:
            total += err * a.job.duration_s / H
    return total
