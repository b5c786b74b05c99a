"""The planner's library boundary: what the CLI refuses, the Python API refuses too,
with ``BadInput``, before any work. A NaN, infinite or negative intensity is never
planned on (a plan must not *choose* the NaN window), a window is never longer
than the 366-day horizon, and no input makes planning allocate without bound."""

from __future__ import annotations

import math

import numpy as np
import pytest

from wattwise.carbon.sources import IntensitySeries
from wattwise.errors import BadInput
from wattwise.schedule import Job, best_window, plan
from wattwise.schedule import jobs as jobs_module
from wattwise.schedule.batch import forecasts_for
from wattwise.schedule.defer import plan_deferral, typical_week
from wattwise.schedule.jobfile import JobSpec
from wattwise.schedule.jobs import MAX_HORIZON_S
from wattwise.schedule.planner import Grid

H = 3600.0


def series(values: list[float], step: float = H, t0: float = 0.0) -> IntensitySeries:
    t = t0 + step * np.arange(len(values))
    return IntensitySeries(t, np.asarray(values, float), "XX", "test", "forecast", step)


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf, -1.0])
def test_a_series_with_a_bad_intensity_is_refused(bad: float) -> None:
    with pytest.raises(BadInput, match="not a finite value >= 0"):
        series([300.0, bad, 300.0, 300.0])


@pytest.mark.parametrize("bad", [2000.0001, 3000.0])
def test_data_past_the_one_intensity_bound_is_refused_a_forecast_is_not(bad: float) -> None:
    """The bound traces, estimates and market figures hold (0 to 2,000) holds for data;
    a simulated forecast's noise may pass it."""
    t = H * np.arange(3)
    with pytest.raises(BadInput, match=r"is not a finite value from 0 to 2,000"):
        IntensitySeries(t, np.array([300.0, bad, 300.0]), "XX", "test", "trace", H)
    assert series([300.0, bad, 300.0]).g_per_kwh[1] == bad


def test_a_series_with_a_nan_time_or_step_is_refused() -> None:
    with pytest.raises(BadInput, match="finite timestamps"):
        IntensitySeries(np.array([0.0, math.nan]), np.array([1.0, 1.0]), "XX", "t", "trace", H)
    for step in (math.nan, math.inf, 0.0, -1.0):
        with pytest.raises(BadInput, match="step_s"):
            IntensitySeries(np.array([0.0]), np.array([1.0]), "XX", "t", "trace", step)


def test_the_planner_never_chooses_a_nan_window_even_if_one_slips_past_the_series() -> None:
    s = series([300.0, 300.0, 300.0, 300.0])
    g = s.g_per_kwh.copy()
    g[1] = math.nan
    object.__setattr__(s, "g_per_kwh", g)  # what only a bypass of the dataclass can do
    with pytest.raises(BadInput, match="NaN, infinite or negative"):
        best_window(s, H, 0.0, 4 * H)


@pytest.mark.parametrize("field,value", [
    ("earliest_start_unix_s", math.nan), ("deadline_unix_s", math.inf),
    ("earliest_start_unix_s", -1.0), ("deadline_unix_s", 1e20),
    ("duration_s", math.nan), ("power_w", math.inf), ("power_w", 1e308),
    ("min_chunk_s", math.nan), ("resources", 1.5), ("resources", 0), ("interruptible", "no"),
])
def test_a_job_with_a_bad_number_is_refused_by_plan(field: str, value: object) -> None:
    kw: dict[str, object] = {"name": "j", "duration_s": H, "earliest_start_unix_s": 0.0,
                             "deadline_unix_s": 3 * H, "zones": ("XX",)}
    kw[field] = value
    with pytest.raises(BadInput, match="invalid job"):
        plan([Job(**kw)], series([1.0, 2.0, 3.0]))  # type: ignore[arg-type]


@pytest.mark.parametrize(("kw", "msg"), [
    ({"min_chunk_s": 1800.0}, "apply to an interruptible job"),
    ({"resume_cost_s": 60.0}, "apply to an interruptible job"),
    ({"interruptible": True, "min_chunk_s": 2 * H}, "min_chunk_s 2 h is longer than the whole job"),
])
def test_chunk_fields_that_would_be_ignored_or_cannot_hold_are_refused(
        kw: dict[str, object], msg: str) -> None:
    """The same jobs the jobs file and ``defer`` refuse, whether checked in bulk or one by one."""
    job = Job("j", H, 0.0, 3 * H, zones=("XX",), **kw)  # type: ignore[arg-type]
    assert any(msg in p for p in job.problems())
    with pytest.raises(BadInput, match=msg):
        plan([job], series([1.0, 2.0, 3.0]))
    plain = Job("k", H, 0.0, 3 * H, zones=("XX",))
    assert jobs_module._plainly_valid([job, plain]) == [False, True]


def test_a_window_beyond_the_horizon_is_refused_without_planning() -> None:
    job = Job("far", H, 0.0, MAX_HORIZON_S + 2 * H, zones=("XX",))
    with pytest.raises(BadInput, match="planning horizon"):
        plan([job], series([1.0, 2.0]))


@pytest.mark.parametrize("capacity", [math.nan, 1e23, 10**23, -1, 1.5, True, "2", [1, 2]])
def test_a_bad_capacity_is_refused(capacity: object) -> None:
    job = Job("j", H, 0.0, 3 * H, zones=("XX",))
    with pytest.raises(BadInput, match="capacity of XX"):
        plan([job], series([1.0, 2.0, 3.0]), capacity={"XX": capacity})  # type: ignore[dict-item]


def test_a_bad_method_is_refused_before_anything_else() -> None:
    with pytest.raises(BadInput, match="method must be"):
        plan([], {}, method="fastest")  # type: ignore[arg-type]


def test_mixed_spacing_that_would_need_too_many_slots_is_refused() -> None:
    t = np.array([0.0, 1.0, 5e9])
    s = IntensitySeries(t, np.array([1.0, 2.0, 3.0]), "XX", "t", "trace", 1.0)
    with pytest.raises(BadInput, match="resample it"):
        Grid(s)


def test_a_chunk_search_too_large_is_refused_not_allocated() -> None:
    minutes = series([100.0] * (200 * 24 * 60), step=60.0)
    job = Job("big", 100 * 86400.0, 0.0, 200 * 86400.0, interruptible=True,
              min_chunk_s=86400.0, zones=("XX",))
    with pytest.raises(BadInput, match="chunk search"):
        plan([job], minutes)


def test_deferral_numbers_are_checked_before_planning() -> None:
    fc = series([1.0] * 10)
    for within, duration in ((math.nan, H), (8 * H, math.inf), (MAX_HORIZON_S + 1, H)):
        with pytest.raises(BadInput, match="within_s and duration_s"):  # the API's names
            plan_deferral(fc, 0.0, within, duration)
    with pytest.raises(BadInput, match="outside the accepted range"):
        plan_deferral(fc, 1e20, 8 * H, H)


def test_a_typical_week_is_not_built_for_centuries() -> None:
    with pytest.raises(BadInput, match="typical week"):
        typical_week("DE", 1.7e9, 1.7e9 + 100 * 365 * 86400.0)
    with pytest.raises(BadInput, match="outside the accepted range"):
        typical_week("DE", 1.7e9, 2.5e11)


def test_a_batch_deadline_beyond_the_horizon_builds_no_forecast() -> None:
    now = 1.8e9
    job = Job("late", H, now + 2 * MAX_HORIZON_S, now + 2 * MAX_HORIZON_S + 2 * H,
              zones=("DE",))
    with pytest.raises(BadInput, match="planning horizon"):
        forecasts_for([JobSpec(job, None)], now, {})


@pytest.mark.parametrize(("name", "msg"), [
    ("", r"job 1: name must be non-empty text, got ''"),
    ("  ", r"job 1: name must be non-empty text"),
    ("x\x1b[31m", r"job 1: name 'x\\x1b\[31m' must be at most 200 characters without "
                  r"control characters"),
    ("a\nb", r"job 1: name .* without control characters"),
    ("x" * 201, r"job 1: name .* must be at most 200 characters"),
    ("\ud800", r"job 1: name .* or unpaired surrogates"),
])
def test_a_job_name_the_jobs_file_refuses_is_refused_by_plan_naming_the_place(
        name: str, msg: str) -> None:
    """The API takes the names a jobs file takes, and labels a bad one by its place,
    not by the empty or garbled name itself."""
    job = Job(name, H, 0.0, 3 * H, zones=("XX",))
    assert job.problems()
    assert jobs_module._plainly_valid([job]) == [False]
    with pytest.raises(BadInput, match=r"^1 invalid job\(s\): " + msg):
        plan([job], series([1.0, 2.0, 3.0]))


def test_a_name_of_200_printable_characters_is_plainly_valid() -> None:
    job = Job("é" * 200, H, 0.0, 3 * H, zones=("XX",))
    assert job.problems() == [] and jobs_module._plainly_valid([job]) == [True]


def test_a_past_deadline_is_said_plainly_through_the_api() -> None:
    import time

    now = time.time()
    job = Job("a", H, now, now - 86400.0, zones=("XX",))
    with pytest.raises(BadInput, match=r"a: deadline is before its earliest start "
                                       r"\(deadline_unix_s .*\); the deadline has passed "
                                       r"\(it is now "):
        plan([job], series([1.0, 2.0, 3.0]))
    # a deadline still to come, before a later earliest start, is not called "passed"
    later = Job("b", H, now + 10 * H, now + 5 * H, zones=("XX",))
    assert [p for p in later.problems() if "deadline" in p] == [
        p for p in later.problems() if "deadline is before" in p and "passed" not in p]


def test_jobs_with_names_that_are_not_text_are_named_not_crashed_on() -> None:
    job = Job(["l"], H, 0.0, 3 * H, zones=("XX",))  # type: ignore[arg-type]
    with pytest.raises(BadInput, match=r"job 1: name must be non-empty text, got \['l'\]"):
        plan([job], series([1.0, 2.0, 3.0]))
