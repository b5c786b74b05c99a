"""Runs on Ray are priced on what their plan was made on, as local runs are (fake ``ray``)."""

from __future__ import annotations

import dataclasses
import sys
import time
from pathlib import Path

import pytest

from tests.fixtures.fake_ray import FakeRay
from tests.fixtures.hourly_trace import write_hourly_trace
from wattwise.records.store import Store
from wattwise.schedule.batch import plan_batch, run_batch
from wattwise.schedule.defer import TYPICAL_WEEK, typical_week
from wattwise.schedule.jobfile import JobSpec
from wattwise.schedule.jobs import Job
from wattwise.schedule.planner import Plan
from wattwise.schedule.pricing import plan_pricing
from wattwise.schedule.ray_executor import RayExecutor, zone_resource

#: Far below DE's yearly average (over 300 g/kWh), so pricing at that average shows.
TRACE_G = 100.0
CMD = [sys.executable, "-c", "import time; time.sleep(1.2)"]


def _spec(name: str, zone: str) -> JobSpec:
    now = time.time()
    job = Job(name=name, duration_s=1.0, earliest_start_unix_s=now,
              deadline_unix_s=now + 3600, zones=(zone,))
    return JobSpec(job, CMD)


def _now(plan: Plan) -> Plan:
    """The plan with each job starting now (the test does not wait for its hour)."""
    now = time.time()
    near = tuple(dataclasses.replace(a, chunks=((now, now + 1.0),)) for a in plan.assignments)
    return dataclasses.replace(plan, assignments=near)


def _trace(tmp_path: Path) -> Path:
    return write_hourly_trace(tmp_path / "de.csv", 3600.0 * (time.time() // 3600) - 3600,
                              [TRACE_G] * 8)


def test_a_ray_node_without_the_trace_file_prices_the_run_on_it(tmp_path: Path) -> None:
    trace = _trace(tmp_path)
    specs = [_spec("train", "DE")]
    plan, _ = plan_batch(specs, time.time(), {"DE": trace})
    plan = _now(plan)
    pricing = plan_pricing(plan, {"DE": trace})
    trace.unlink()  # the node has no copy: the bytes travel with the job
    ray = FakeRay({"CPU": 4, zone_resource("DE"): 1})
    db = tmp_path / "r.db"
    res = RayExecutor(ray=ray, db=db, interval_s=0.1, pricing=pricing).run_plan(
        plan, {"train": CMD})["train"]
    assert res.exit_code == 0
    assert res.realised_g_per_kwh == pytest.approx(TRACE_G)
    assert res.priced_on == "trace de.csv (the file the plan was made on)"
    store = Store(db)
    (info,) = store.list_runs()
    assert info.name == "train"  # named for its job
    assert info.summary is not None
    assert info.summary["emissions"]["avg_intensity_g_per_kwh"] == pytest.approx(TRACE_G)
    assert info.tags["priced_on"] == res.priced_on
    assert float(info.tags["planned_g_per_kwh"]) == pytest.approx(TRACE_G)
    assert any("realised 100.0 gCO2eq/kWh as priced on trace de.csv" in e["message"]
               for e in store.events(info.id))


def test_plan_on_ray_prices_each_run_as_it_was_planned(tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    trace = _trace(tmp_path)
    specs = [_spec("train", "DE")]
    plan, _ = plan_batch(specs, time.time(), {"DE": trace})
    monkeypatch.setitem(sys.modules, "ray", FakeRay({"CPU": 4, zone_resource("DE"): 1}))
    res = run_batch(_now(plan), specs, ray_address="auto", db=tmp_path / "r.db",
                    traces={"DE": trace})["train"]
    assert res.exit_code == 0
    assert res.planned_g_per_kwh == pytest.approx(TRACE_G)
    assert res.realised_g_per_kwh == pytest.approx(TRACE_G)


def test_a_typical_week_plan_on_ray_is_priced_on_the_typical_week(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    specs = [_spec("nightly", "FR")]
    plan, _ = plan_batch(specs, time.time())
    monkeypatch.setitem(sys.modules, "ray", FakeRay({"CPU": 4, zone_resource("FR"): 1}))
    t0 = time.time()
    res = run_batch(_now(plan), specs, ray_address="auto", db=tmp_path / "r.db")["nightly"]
    t1 = time.time()
    assert res.exit_code == 0
    assert res.priced_on is not None and TYPICAL_WEEK in res.priced_on
    week = typical_week("FR", t0 - 3600, t1 + 3600)
    lo, hi = sorted((week.value_at(t0), week.value_at(t1)))
    assert res.realised_g_per_kwh is not None
    assert lo - 1e-6 <= res.realised_g_per_kwh <= hi + 1e-6
    (info,) = Store(tmp_path / "r.db").list_runs()
    assert info.summary is not None
    assert info.summary["emissions"]["source"] == "trace:typical-week-FR.csv"
    assert TYPICAL_WEEK in info.tags["priced_on"]


def test_a_zone_without_pricing_says_it_is_priced_at_the_yearly_average(tmp_path: Path) -> None:
    plan, _ = plan_batch([_spec("x", "DE")], time.time(), {"DE": _trace(tmp_path)})
    ray = FakeRay({"CPU": 4, zone_resource("DE"): 1})
    res = RayExecutor(ray=ray, db=tmp_path / "r.db", interval_s=0.1).run_plan(
        _now(plan), {"x": CMD})["x"]
    assert res.priced_on is not None and res.priced_on.startswith("the zone's yearly average")
    assert res.realised_g_per_kwh is not None and res.realised_g_per_kwh > 2 * TRACE_G


def test_each_zone_is_priced_on_what_it_was_planned_on(tmp_path: Path) -> None:
    trace = _trace(tmp_path)
    plan, _ = plan_batch([_spec("de", "DE"), _spec("fr", "FR")], time.time(), {"DE": trace})
    assert plan.source_of("DE") == "trace:de.csv"
    both = plan_pricing(plan, {"DE": trace})
    assert both["DE"].priced_on == "trace de.csv (the file the plan was made on)"
    assert both["FR"].priced_on.startswith(f"the FR {TYPICAL_WEEK}")
    # Without the DE trace there is nothing to price DE as planned: said, not guessed.
    bare = plan_pricing(plan)
    assert bare["DE"].priced_on.startswith("the zone's yearly average")
    assert bare["FR"].priced_on == both["FR"].priced_on
