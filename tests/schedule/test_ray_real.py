"""RayExecutor on a real local Ray cluster, where Ray is installed (skipped otherwise).

    pip install 'ray[default]'    # then: pytest tests/schedule/test_ray_real.py
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from wattwise.records.store import Store
from wattwise.schedule.jobs import Job
from wattwise.schedule.planner import Assignment, Plan
from wattwise.schedule.ray_executor import RayExecutor, zone_resource


@pytest.fixture(scope="module")
def ray() -> Iterator[Any]:
    ray = pytest.importorskip("ray")
    ray.init(num_cpus=2, resources={zone_resource("DE"): 1}, include_dashboard=False,
             log_to_driver=False)
    yield ray
    ray.shutdown()


@pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::FutureWarning")
def test_a_plan_runs_on_the_cluster_in_its_zone(ray: Any, tmp_path: Path) -> None:
    now = time.time()
    job = Job(name="nightly", duration_s=1.0, earliest_start_unix_s=now,
              deadline_unix_s=now + 60, zones=("DE",))
    a = Assignment(job, "DE", ((now + 1.0, now + 6.0),), expected_g=1.0, baseline_g=2.0)
    plan = Plan((a,), "test", 1.0, 2.0, 1.0, 0.0, 0.0, ("test",))
    cmd = [sys.executable, "-c", "import time; time.sleep(0.5)"]
    results = RayExecutor(db=tmp_path / "r.db", interval_s=0.1).run_plan(plan, {"nightly": cmd})
    res = results["nightly"]
    assert res.exit_code == 0 and res.started_unix_s >= a.start_unix_s - 0.1
    rec = Store(tmp_path / "r.db").get_run("nightly")
    assert rec.status == "finished" and rec.summary["emissions"]["zone"] == "DE"


@pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::FutureWarning")
def test_a_zone_without_nodes_is_refused(ray: Any) -> None:
    from wattwise.errors import BadInput

    now = time.time()
    job = Job(name="x", duration_s=1.0, earliest_start_unix_s=now, deadline_unix_s=now + 60)
    a = Assignment(job, "GB", ((now, now + 5.0),), expected_g=1.0, baseline_g=2.0)
    with pytest.raises(BadInput, match="zone GB"):
        RayExecutor().run(a, [sys.executable, "-c", "pass"])
