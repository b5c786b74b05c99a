"""The planner on small instances whose optimum is found by brute force."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from wattwise.carbon.sources import IntensitySeries
from wattwise.errors import BadInput
from wattwise.schedule import Job, best_window, parse_duration, plan, replan
from wattwise.schedule._slots import chunk_dp as _chunk_dp

H = 3600.0


def series(values: list[float], zone: str = "XX", step: float = H) -> IntensitySeries:
    t = step * np.arange(len(values))
    return IntensitySeries(t, np.asarray(values, float), zone, "test", "forecast", step)


@pytest.mark.parametrize(("text", "seconds"), [
    ("8h", 8 * H), ("90m", 5400.0), ("2h30m", 9000.0), ("1.5h", 5400.0), ("45s", 45.0),
    ("1d2h", 26 * H), ("2H 30M", 9000.0),
])
def test_durations_are_parsed(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "8", "h", "2x", "h8", "2h-3m"])
def test_unreadable_durations_are_bad_input(text: str) -> None:
    with pytest.raises(BadInput, match="duration"):
        parse_duration(text)


def test_best_window_is_the_brute_force_minimum_including_mid_slot_starts() -> None:
    rng = np.random.default_rng(3)
    vals = list(rng.uniform(50, 500, 30))
    s = series(vals)
    fine = np.repeat(vals, 60)  # per-minute values: brute force over every minute start
    for start_min, dur_min, win_min in [(17, 150, 600), (0, 60, 300), (95, 200, 1000)]:
        a = best_window(s, dur_min * 60.0, start_min * 60.0, (start_min + win_min) * 60.0)
        best = min(fine[k : k + dur_min].sum() for k in range(start_min,
                                                              start_min + win_min - dur_min + 1))
        assert a.expected_g == pytest.approx(best / 60 * 1000 / 1000)
        assert a.chunks[0][0] >= start_min * 60 and a.chunks[-1][1] <= (start_min + win_min) * 60
        assert a.baseline_g == pytest.approx(fine[start_min : start_min + dur_min].sum() / 60)


def test_interruptible_takes_the_cheapest_slots() -> None:
    s = series([5, 1, 9, 2, 8, 3, 7])
    a = best_window(s, 3 * H, 0, 7 * H, interruptible=True)
    assert a.chunks == ((H, 2 * H), (3 * H, 4 * H), (5 * H, 6 * H))
    assert a.expected_g == pytest.approx(6.0)  # 1 kW for 1 h at 1 + 2 + 3 g/kWh


def _brute_chunks(cost: np.ndarray, k: int, m: int, r: int) -> float:
    best = np.inf
    for size in range(k, cost.size + 1):
        for sel in itertools.combinations(range(cost.size), size):
            runs: list[int] = []
            prev = -2
            for x in sel:
                if x == prev + 1:
                    runs[-1] += 1
                else:
                    runs.append(1)
                prev = x
            work = [runs[0]] + [n - r for n in runs[1:]]
            if sum(work) == k and min(work) >= m:
                best = min(best, float(cost[list(sel)].sum()))
    return best


def test_chunking_with_min_chunk_and_resume_cost_matches_brute_force() -> None:
    rng = np.random.default_rng(7)
    for _ in range(120):
        n = int(rng.integers(3, 9))
        k = int(rng.integers(1, n + 1))
        m, r = min(int(rng.integers(1, 4)), k), int(rng.integers(0, 3))
        cost = rng.random(n)
        pick = _chunk_dp(cost, k, m, r)
        want = _brute_chunks(cost, k, m, r)
        got = np.inf if pick is None else float(cost[pick].sum())
        assert got == pytest.approx(want), (n, k, m, r)


def test_min_chunk_and_resume_cost_change_the_plan() -> None:
    s = series([1, 9, 1, 9, 1, 9, 9, 9])
    free = best_window(s, 3 * H, 0, 8 * H, interruptible=True)
    assert len(free.chunks) == 3
    chunked = best_window(s, 2 * H, 0, 8 * H, interruptible=True, min_chunk_s=2 * H)
    assert all(b - a >= 2 * H for a, b in chunked.chunks)
    costly = best_window(s, 2 * H, 0, 8 * H, interruptible=True, resume_cost_s=H)
    # resuming costs a 9-g slot of overhead, so running 0-2 h in one piece (1 + 9) ties with
    # two chunks (1 + overhead 9 + 1 = 11 is worse): one chunk wins.
    assert len(costly.chunks) == 1 and costly.expected_g == pytest.approx(10.0)


def _brute_capacity(jobs: list[Job], s: IntensitySeries, cap: int) -> float:
    vals = np.asarray(s.g_per_kwh)
    options = []
    for j in jobs:
        k0, d = int(j.earliest_start_unix_s // H), int(j.duration_s // H)
        options.append([(k, vals[k : k + d].sum()) for k in
                        range(k0, int(j.deadline_unix_s // H) - d + 1)])
    best = np.inf
    for combo in itertools.product(*options):
        use = np.zeros(vals.size)
        for (k, _), j in zip(combo, jobs, strict=True):
            use[k : k + int(j.duration_s // H)] += 1
        if use.max() <= cap:
            best = min(best, sum(c for _, c in combo))
    return best


def test_milp_finds_the_optimum_under_capacity_and_greedy_stays_feasible() -> None:
    rng = np.random.default_rng(11)
    s = series(list(rng.uniform(100, 400, 12)))
    jobs = [Job(f"j{i}", float(rng.integers(1, 4)) * H, float(e) * H, float(e) * H + 8 * H)
            for i, e in enumerate(rng.integers(0, 4, 5))]
    want = _brute_capacity(jobs, s, cap=2)
    p = plan(jobs, s, capacity={"XX": 2}, method="milp")
    assert p.expected_g == pytest.approx(want, rel=1e-6)
    free = plan(jobs, s)
    assert free.expected_g <= p.expected_g + 1e-9
    for p2 in (p, plan(jobs, s, capacity={"XX": 2}, method="greedy")):
        use = np.zeros(12)
        for a in p2.assignments:
            j = a.job
            assert j.earliest_start_unix_s <= a.start_unix_s
            assert a.end_unix_s <= j.deadline_unix_s
            use[int(a.start_unix_s // H) : int(a.end_unix_s // H)] += 1
        assert use.max() <= 2
        assert len(p2.assignments) == len(jobs)
    g = plan(jobs, s, capacity={"XX": 2}, method="greedy")
    assert g.expected_g >= want - 1e-9
    assert g.gap_pct == pytest.approx(100 * (g.expected_g - free.expected_g) / free.expected_g)


def test_plan_reports_expected_baseline_and_saving() -> None:
    s = series([400, 300, 100, 100, 300])
    p = plan([Job("a", 2 * H, 0, 5 * H, power_w=500)], s)
    assert p.baseline_g == pytest.approx(350.0)
    assert p.expected_g == pytest.approx(100.0)
    assert p.saving_pct == pytest.approx(100 * 250 / 350)


def test_zone_choice_picks_the_cleaner_zone() -> None:
    p = plan([Job("a", H, 0, 3 * H, zones=("A", "B"))],
             {"A": series([300, 300, 300], "A"), "B": series([100, 50, 100], "B")})
    a = p.assignments[0]
    assert a.zone == "B" and a.baseline_g == pytest.approx(300.0)


@pytest.mark.parametrize(("job", "msg"), [
    (Job("late", H, 5 * H, 4 * H), "late: deadline is before"),
    (Job("long", 4 * H, 0, 3 * H), "long: duration 4 h is longer than its window 3 h"),
])
def test_bad_jobs_are_named(job: Job, msg: str) -> None:
    with pytest.raises(BadInput, match=msg):
        plan([Job("ok", H, 0, 3 * H), job], series([1.0] * 10))


def test_window_without_data_is_named() -> None:
    with pytest.raises(BadInput, match=r"1 job.*whose window.*far"):
        plan([Job("ok", H, 0, 3 * H), Job("far", H, 20 * H, 30 * H)], series([1.0] * 10))


def test_infeasible_capacity_is_bad_input_naming_jobs() -> None:
    jobs = [Job(f"j{i}", 2 * H, 0, 2 * H) for i in range(3)]
    with pytest.raises(BadInput, match=r"infeasible.*j"):
        plan(jobs, series([1.0] * 4), capacity={"XX": 2}, method="milp")
    with pytest.raises(BadInput, match=r"do not fit the capacity.*j"):
        plan(jobs, series([1.0] * 4), capacity={"XX": 2}, method="greedy")


def test_replan_keeps_started_jobs_and_moves_the_rest() -> None:
    s = series([100, 100, 500, 500, 500, 500])
    first = plan([Job("a", H, 0, 6 * H), Job("b", H, 2 * H, 6 * H)], s)
    newer = series([100, 100, 500, 500, 500, 10])
    p = replan(first, newer, now_unix_s=0.5 * H)
    by = p.by_job()
    assert by["a"].chunks == first.by_job()["a"].chunks
    assert by["b"].start_unix_s == 5 * H


def _grams_of(
    s: IntensitySeries, chunks: tuple[tuple[float, float], ...], kw: float = 1.0
) -> float:
    """Emissions of running at ``kw`` over ``chunks``, integrated minute by minute."""
    total = 0.0
    for a, b in chunks:
        t = np.arange(a, b, 60.0)
        total += sum(s.value_at(float(x) + 30.0) for x in t) * kw / 60.0
    return total


def test_a_part_slot_is_used_for_its_part_only_and_costs_exactly_that() -> None:
    rng = np.random.default_rng(11)
    for _ in range(20):
        vals = list(rng.uniform(50, 500, 12))
        s = series(vals)
        dur = 2.5 * H
        a = best_window(s, dur, 0, 12 * H, interruptible=True)
        # Runs exactly the job's duration, and the grams are those of the chunks it runs.
        assert sum(b - x for x, b in a.chunks) == pytest.approx(dur)
        assert a.expected_g == pytest.approx(_grams_of(s, a.chunks), rel=1e-6)
        # Optimum: the two cheapest hours in full and half of the third cheapest.
        c = sorted(vals)
        assert a.expected_g == pytest.approx(c[0] + c[1] + 0.5 * c[2])


def test_a_short_interruptible_job_is_never_planned_dearer_than_one_piece() -> None:
    s = series([300, 100, 400, 120, 500, 90])
    for min_chunk, resume in [(0.0, 0.0), (600.0, 0.0), (0.0, 300.0), (1800.0, 600.0)]:
        a = best_window(s, 1800.0, 0, 6 * H, interruptible=True, min_chunk_s=min_chunk,
                        resume_cost_s=resume)
        one = best_window(s, 1800.0, 0, 6 * H)
        assert a.expected_g <= one.expected_g + 1e-9
        assert a.expected_g == pytest.approx(_grams_of(s, a.chunks), rel=1e-6)
        assert a.expected_g == pytest.approx(45.0)  # half an hour at 90 g/kWh, 1 kW


def test_with_resume_cost_the_last_chunk_ends_early_by_the_part_slot() -> None:
    s = series([100, 900, 100, 900, 100, 900, 100])
    a = best_window(s, 2.5 * H, 0, 7 * H, interruptible=True, resume_cost_s=H)
    ran = sum(b - x for x, b in a.chunks)
    assert a.expected_g == pytest.approx(_grams_of(s, a.chunks), rel=1e-6)
    assert ran < 3 * H + 2 * H  # less than whole slots: the last one is cut short


@pytest.mark.parametrize(("jobs", "msg"), [
    (Job("one", H, 0, 3 * H), r"jobs must be a list of Job, got one Job \('one'\); pass \[job\]"),
    ("one", r"jobs must be a list of Job, got str"),
    ({"one": Job("one", H, 0, 3 * H)}, r"jobs must be a list of Job, got dict"),
    ([Job("one", H, 0, 3 * H), 5], r"item 2 is not a Job but int 5"),
])
def test_jobs_that_are_not_a_list_of_job_are_named(jobs: object, msg: str) -> None:
    with pytest.raises(BadInput, match=msg):
        plan(jobs, series([1.0] * 10))  # type: ignore[arg-type]


def test_zones_given_as_text_are_refused_not_split_into_letters() -> None:
    with pytest.raises(BadInput, match=r"zones must be a non-empty list of zone names, got 'DE'"):
        Job("j", H, 0, 3 * H, zones="DE")  # type: ignore[arg-type]
    with pytest.raises(BadInput, match=r"zones must be a non-empty list of zone names, got 5"):
        Job("j", H, 0, 3 * H, zones=5)  # type: ignore[arg-type]


@pytest.mark.parametrize(("field", "value"), [
    ("duration_s", "3600"), ("power_w", "100"), ("earliest_start_unix_s", None),
    ("deadline_unix_s", "3h"), ("min_chunk_s", "0"), ("resume_cost_s", True),
    ("baseline_start_unix_s", "0"),
])
def test_a_numeric_field_that_is_not_a_number_says_so(field: str, value: object) -> None:
    kw: dict[str, object] = {"name": "j", "duration_s": H, "earliest_start_unix_s": 0.0,
                             "deadline_unix_s": 3 * H, field: value}
    with pytest.raises(BadInput) as e:
        plan([Job(**kw)], series([1.0] * 10))  # type: ignore[arg-type]
    msg = str(e.value)
    assert f"{field} must be a number, got {type(value).__name__} {value!r}" in msg
    assert "is not > 0" not in msg


def test_from_energy_with_text_says_it_needs_a_number() -> None:
    with pytest.raises(BadInput, match=r"job 'j': energy_j must be a number, got str '5'"):
        Job.from_energy("j", "5", H, earliest_start_unix_s=0.0,  # type: ignore[arg-type]
                        deadline_unix_s=3 * H)


@pytest.mark.parametrize(("kw", "msg"), [
    ({"zones": [1]}, r"zones must be zone names \(text\), got int 1"),
    ({"zones": ["", ""]}, r"zones name a zone twice"),
    ({"name": ""}, r"name must be non-empty text, got ''"),
    ({"name": 5}, r"name must be non-empty text, got 5"),
])
def test_zones_and_name_of_the_wrong_kind_are_named(kw: dict[str, object], msg: str) -> None:
    """``zones=[1]`` was said to need "at least one zone"; a blank name was planned."""
    given: dict[str, object] = {"name": "j", "duration_s": H, "earliest_start_unix_s": 0.0,
                                "deadline_unix_s": 3 * H, **kw}
    with pytest.raises(BadInput, match=msg):
        plan([Job(**given)], series([1.0] * 10))  # type: ignore[arg-type]
