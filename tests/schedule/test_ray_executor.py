"""RayExecutor on a fake ``ray`` module: placement by zone, measurement on the node, errors."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pytest

from tests.fixtures.fake_ray import FakeRay
from wattwise.errors import BadInput
from wattwise.records.store import Store
from wattwise.schedule.jobs import Job
from wattwise.schedule.planner import Assignment, Plan
from wattwise.schedule.ray_executor import ZONE_DEMAND, RayExecutor, zone_resource


def _assignment(name: str, zone: str, start_in_s: float = 0.0) -> Assignment:
    now = time.time()
    job = Job(name=name, duration_s=1.0, earliest_start_unix_s=now, deadline_unix_s=now + 60,
              zones=(zone,))
    t0 = now + start_in_s
    return Assignment(job, zone, ((t0, t0 + 5.0),), expected_g=1.0, baseline_g=2.0)


def _plan(*assignments: Assignment) -> Plan:
    return Plan(assignments, "test", 2.0, 4.0, 2.0, 0.0, 0.0, ("test",))


CMD = [sys.executable, "-c", "import time; time.sleep(0.2)"]


def test_each_job_is_pinned_to_its_zone_and_measured_there(tmp_path: Path) -> None:
    ray = FakeRay({"CPU": 8, zone_resource("DE"): 1, zone_resource("FR"): 1})
    ex = RayExecutor(ray=ray, address="auto", db=tmp_path / "r.db", interval_s=0.05)
    plan = _plan(_assignment("a", "DE"), _assignment("b", "FR", start_in_s=0.3))
    results = ex.run_plan(plan, {"a": CMD, "b": CMD})
    assert ray.init_address == "auto"
    placed = {s["options"]["name"]: s["options"] for s in ray.submitted}
    assert placed["a"]["resources"] == {zone_resource("DE"): ZONE_DEMAND}
    assert placed["b"]["resources"] == {zone_resource("FR"): ZONE_DEMAND}
    assert all(r.exit_code == 0 for r in results.values())
    # Measured on the node, priced with the zone the job ran in.
    runs = {r.name: r for r in Store(tmp_path / "r.db").list_runs()}
    assert runs["a"].summary["emissions"]["zone"] == "DE"
    assert runs["b"].summary["emissions"]["zone"] == "FR"
    assert results["b"].started_unix_s >= plan.assignments[1].start_unix_s - 0.05


def test_a_zone_no_node_offers_is_refused_before_submitting() -> None:
    ray = FakeRay({"CPU": 8, zone_resource("DE"): 1})
    ex = RayExecutor(ray=ray)
    with pytest.raises(BadInput, match=r"no node of the Ray cluster is in zone GB.*ray start"):
        ex.run(_assignment("a", "GB"), CMD)
    assert ray.submitted == []


def test_unpinned_jobs_run_anywhere(tmp_path: Path) -> None:
    ray = FakeRay({"CPU": 8})
    ex = RayExecutor(ray=ray, pin_zone=False, db=tmp_path / "r.db", num_cpus=2)
    res = ex.run(_assignment("a", "GB"), CMD)
    assert res.exit_code == 0
    assert "resources" not in ray.submitted[0]["options"]
    assert ray.submitted[0]["options"]["num_cpus"] == 2


def test_a_job_without_a_command_is_named() -> None:
    ex = RayExecutor(ray=FakeRay({zone_resource("DE"): 1}))
    with pytest.raises(BadInput, match="no command for job"):
        ex.run_plan(_plan(_assignment("a", "DE")), {})


def test_a_failing_job_reports_its_exit_code(tmp_path: Path) -> None:
    ray = FakeRay({zone_resource("DE"): 1})
    ex = RayExecutor(ray=ray, db=tmp_path / "r.db")
    res = ex.run(_assignment("a", "DE"), [sys.executable, "-c", "raise SystemExit(3)"])
    assert res.exit_code == 3
    assert Store(tmp_path / "r.db").get_run("a").status == "failed"


def test_without_ray_installed_the_fix_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "ray", None)
    with pytest.raises(BadInput, match=r"pip install 'ray\[default\]'"):
        RayExecutor().run(_assignment("a", "DE"), CMD)
