"""A planned run is priced on the intensity its plan used, and records planned vs realised."""

from __future__ import annotations

import dataclasses
import sys
import time
from pathlib import Path

import pytest

from tests.fixtures.hourly_trace import write_hourly_trace
from wattwise.records.store import Store
from wattwise.schedule.batch import plan_batch, run_batch
from wattwise.schedule.jobfile import JobSpec
from wattwise.schedule.jobs import Job

#: Far below DE's yearly average (over 300 g/kWh), so pricing at that average shows.
TRACE_G = 100.0


def test_run_batch_prices_each_run_on_the_trace_the_plan_used(tmp_path: Path) -> None:
    hour = 3600.0 * (time.time() // 3600)
    trace = write_hourly_trace(tmp_path / "de.csv", hour - 3600, [TRACE_G] * 8)
    now = time.time()
    job = Job(name="train", duration_s=1.0, earliest_start_unix_s=now,
              deadline_unix_s=now + 3600, zones=("DE",))
    specs = [JobSpec(job, [sys.executable, "-c", "import time; time.sleep(1.2)"])]
    plan, _ = plan_batch(specs, now, {"DE": trace})
    # Run it now rather than at the planned hour (the trace is flat anyway).
    near = tuple(dataclasses.replace(a, chunks=((now, now + 1.0),)) for a in plan.assignments)
    plan = dataclasses.replace(plan, assignments=near)
    db = tmp_path / "r.db"
    res = run_batch(plan, specs, db=db, traces={"DE": trace})["train"]
    assert res.exit_code == 0
    assert res.planned_g_per_kwh == pytest.approx(TRACE_G)
    assert res.realised_g_per_kwh == pytest.approx(TRACE_G)
    store = Store(db)
    (info,) = store.list_runs()
    assert info.name == "train"
    assert info.summary is not None
    assert info.summary["emissions"]["avg_intensity_g_per_kwh"] == pytest.approx(TRACE_G)
    assert float(info.tags["planned_g_per_kwh"]) == pytest.approx(TRACE_G)
    # the usual time's intensity too, so the dashboard can show the realised saving
    assert float(info.tags["usual_g_per_kwh"]) == pytest.approx(TRACE_G)
    assert float(info.tags["planned_start_unix_s"]) == pytest.approx(now, abs=1)
    # kept at full precision, and said so: a whole "100.0" is no older record's rounding
    from wattwise.server.results import plan_figures

    assert info.tags["intensity_precision"] == "full"
    assert plan_figures(info.to_dict())["saving_note"] is None
    assert any("realised 100.0" in e["message"] for e in store.events(info.id))


def test_a_typical_week_plan_run_here_is_priced_on_the_typical_week(tmp_path: Path) -> None:
    from wattwise.schedule.defer import TYPICAL_WEEK, typical_week

    now = time.time()
    job = Job(name="nightly", duration_s=1.0, earliest_start_unix_s=now,
              deadline_unix_s=now + 3600, zones=("GB",))
    specs = [JobSpec(job, [sys.executable, "-c", "import time; time.sleep(1.2)"])]
    plan, _ = plan_batch(specs, now)
    assert any(TYPICAL_WEEK in s for s in plan.sources)
    t0 = time.time()
    near = tuple(dataclasses.replace(a, chunks=((t0, t0 + 1.0),)) for a in plan.assignments)
    db = tmp_path / "r.db"
    res = run_batch(dataclasses.replace(plan, assignments=near), specs, db=db)["nightly"]
    t1 = time.time()
    week = typical_week("GB", t0 - 3600, t1 + 3600)
    lo, hi = sorted((week.value_at(t0), week.value_at(t1)))
    assert res.realised_g_per_kwh is not None
    assert lo - 1e-6 <= res.realised_g_per_kwh <= hi + 1e-6
    (info,) = Store(db).list_runs()
    assert info.summary is not None
    assert info.summary["emissions"]["source"] == "trace:typical-week-GB.csv"
    assert info.tags["priced_on"].startswith(f"the GB {TYPICAL_WEEK}, as the plan was")


def test_a_trace_that_changed_since_planning_is_priced_from_the_planned_bytes(
        tmp_path: Path) -> None:
    from wattwise.schedule.pricing import cache_dir, for_trace

    hour = 3600.0 * (time.time() // 3600)
    trace = write_hourly_trace(tmp_path / "de.csv", hour, [TRACE_G] * 4)
    pricing = for_trace("DE", trace)
    assert pricing.trace_file() == trace.resolve()  # unchanged: the user's own file
    write_hourly_trace(trace, hour, [900.0] * 4)
    copy = pricing.trace_file()
    assert copy is not None and copy != trace.resolve() and copy.name == "de.csv"
    assert copy.is_relative_to(cache_dir())
    assert "100.0" in copy.read_text() and "900" not in copy.read_text()
