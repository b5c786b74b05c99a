"""A planned run is priced on the intensity its plan used, and records planned vs realised."""

from __future__ import annotations

import dataclasses
import sys
import time
from pathlib import Path

import pytest

from tests.fixtures.hourly_trace import write_hourly_trace
from wattwise.schedule.batch import plan_batch, run_batch
from wattwise.schedule.jobfile import JobSpec
from wattwise.schedule.jobs import Job
from wattwise.store import Store

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
    assert float(info.tags["planned_start_unix_s"]) == pytest.approx(now, abs=1)
    assert any("realised 100.0" in e["message"] for e in store.events(info.id))
