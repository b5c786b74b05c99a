"""Planning and running a batch: forecasts per zone, notes, and execution here."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from tests.fixtures.hourly_trace import write_hourly_trace
from tests.fixtures.processes import descendant, gone, kill_all, wait_for
from wattwise.errors import BadInput
from wattwise.records.store import Store
from wattwise.schedule.batch import plan_batch, run_batch
from wattwise.schedule.jobfile import JobSpec
from wattwise.schedule.jobs import Job


def _trace(path: Path, start: float, values: list[float]) -> Path:
    return write_hourly_trace(path, start, values)


def test_each_zone_is_planned_on_its_trace_and_jobs_go_where_it_is_cleanest(
    tmp_path: Path,
) -> None:
    now = 3600.0 * (int(time.time()) // 3600)
    de = _trace(tmp_path / "de.csv", now, [400] * 24)
    fr = _trace(tmp_path / "fr.csv", now, [60] * 24)
    job = Job(name="train", duration_s=7200, earliest_start_unix_s=now,
              deadline_unix_s=now + 12 * 3600, power_w=500, zones=("DE", "FR"))
    plan, notes = plan_batch([JobSpec(job, None)], now, {"DE": de, "FR": fr})
    (a,) = plan.assignments
    assert a.zone == "FR" and a.expected_g == pytest.approx(60 * 0.5 * 2)
    assert notes == []


def test_a_trace_for_a_zone_no_job_uses_is_refused(tmp_path: Path) -> None:
    job = Job(name="x", duration_s=3600, earliest_start_unix_s=0, deadline_unix_s=7200,
              zones=("DE",))
    with pytest.raises(BadInput, match="no job uses: GB"):
        plan_batch([JobSpec(job, None)], 0.0, {"GB": "gb.csv"})


def test_reference_power_is_said(tmp_path: Path) -> None:
    now = time.time()
    job = Job(name="x", duration_s=1800, earliest_start_unix_s=now, deadline_unix_s=now + 6 * 3600,
              zones=("DE",), power_given=False)
    plan, notes = plan_batch([JobSpec(job, None)], now)
    assert any("1 kW reference" in n for n in notes)
    assert any("typical-week" in n for n in plan.notes)


def test_jobs_run_here_at_their_planned_times_and_are_measured(tmp_path: Path) -> None:
    now = time.time()
    specs = []
    for name, delay in (("first", 0.0), ("second", 0.4)):
        job = Job(name=name, duration_s=1.0, earliest_start_unix_s=now + delay,
                  deadline_unix_s=now + delay + 60, zones=("DE",))
        specs.append(JobSpec(job, [sys.executable, "-c", "pass"]))
    plan, _ = plan_batch(specs, now)
    # Replace the plan's times with near ones, so the test does not wait for clean hours.
    import dataclasses

    near = tuple(
        dataclasses.replace(a, chunks=((now + d, now + d + 30.0),))
        for a, d in zip(plan.assignments, (0.0, 0.4), strict=True)
    )
    plan = dataclasses.replace(plan, assignments=near)
    results = run_batch(plan, specs, db=tmp_path / "r.db")
    assert {n: r.exit_code for n, r in results.items()} == {"first": 0, "second": 0}
    assert results["second"].started_unix_s >= now + 0.4 - 0.05
    assert {r.name for r in Store(tmp_path / "r.db").list_runs()} == {"first", "second"}
    assert np.isfinite(results["first"].ended_unix_s)


def test_running_needs_a_command_for_every_job() -> None:
    job = Job(name="x", duration_s=1800, earliest_start_unix_s=0, deadline_unix_s=7200,
              zones=("DE",))
    from wattwise.schedule.planner import Assignment, Plan

    a = Assignment(job, "DE", ((0.0, 1800.0),), 1.0, 1.0)
    plan = Plan((a,), "exact", 1.0, 1.0, 1.0, 0.0, 0.0, ())
    with pytest.raises(BadInput, match="no command for job"):
        run_batch(plan, [JobSpec(job, None)])


def test_zones_without_a_trace_use_the_named_live_provider(tmp_path: Path) -> None:
    from datetime import datetime, timezone

    from tests.schedule.test_defer_sources import FIXTURES, Recorded
    from wattwise.carbon.providers import IntensityCache, UKCarbonIntensity

    now = datetime(2025, 3, 10, 12, 20, tzinfo=timezone.utc).timestamp()
    tr = Recorded("/fw48h", (FIXTURES / "ukcarbon" / "fw48h.json").read_bytes())
    uk = UKCarbonIntensity(transport=tr, clock=lambda: now,
                           cache=IntensityCache(tmp_path / "cache", clock=lambda: now))
    job = Job(name="x", duration_s=2 * 3600, earliest_start_unix_s=now,
              deadline_unix_s=now + 8 * 3600, zones=("GB",))
    plan, _ = plan_batch([JobSpec(job, None)], now, provider=uk)
    assert tr.paths and plan.sources[0].startswith("ukcarbon:")
    # The recorded forecast falls through the window: the plan waits for its end.
    assert plan.assignments[0].start_unix_s == pytest.approx(now + 6 * 3600)


def test_a_signal_to_a_running_batch_ends_every_job_and_starts_no_more(tmp_path: Path) -> None:
    db, marker = tmp_path / "r.db", tmp_path / "later-ran"
    script = f"""
import dataclasses, time
from wattwise.schedule.batch import plan_batch, run_batch
from wattwise.schedule.jobfile import JobSpec
from wattwise.schedule.jobs import Job
now = time.time()
cmds = {{"now": ["sh", "-c", "sleep 30; echo done"],
         "later": ["sh", "-c", "touch {marker}"]}}
specs = [JobSpec(Job(name=n, duration_s=1.0, earliest_start_unix_s=now,
                     deadline_unix_s=now + 600, zones=("DE",)), c) for n, c in cmds.items()]
plan, _ = plan_batch(specs, now)
near = tuple(dataclasses.replace(a, chunks=((now + d, now + 300),))
             for a, d in zip(plan.assignments, (0.0, 120.0), strict=True))
run_batch(dataclasses.replace(plan, assignments=near), specs, db={str(db)!r})
"""
    proc = subprocess.Popen([sys.executable, "-c", script], stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    pids: list[int] = []
    try:
        assert wait_for(lambda: descendant(proc.pid, "sleep") is not None)
        sleep = descendant(proc.pid, "sleep")
        assert sleep is not None
        pids = [sleep.ppid(), sleep.pid]
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=60)
        assert wait_for(lambda: all(gone(p) for p in pids)), "a process of a job survived"
    finally:
        kill_all(pids)
        proc.kill()
        proc.communicate()
    assert proc.returncode != 0 and "interrupted before the job's window began" in err
    assert not marker.exists()
    (rec,) = Store(db).list_runs()
    assert rec.name == "now" and rec.status == "interrupted"
