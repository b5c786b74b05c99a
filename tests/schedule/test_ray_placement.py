"""Efficiency-aware placement on a real local Ray cluster of unlike nodes in two zones.

Three raylets (``ray.cluster_utils.Cluster``) declare their zone and node type:
DE/slow (the head), DE/fast and FR/slow. A job's energy per node type comes from
earlier runs of it on that node type (``NodeEnergy.from_run``, as ``like_run``);
the planner places two jobs on what the cluster offers, on two node types in
two zones; the runs' records
(their energy times the intensity they were priced at) realise the plan's saving.
Skipped where Ray is not installed (``pip install 'wattwise[ray]'``).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from wattwise.carbon.sources import IntensitySeries
from wattwise.records.store import Store
from wattwise.schedule import Job, plan
from wattwise.schedule.placement import NodeEnergy
from wattwise.schedule.planner import Assignment, Plan
from wattwise.schedule.pricing import for_series
from wattwise.schedule.ray_executor import RayExecutor, node_resource, zone_resource

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning",
                                        "ignore::FutureWarning", "ignore::ResourceWarning")

#: Work of one job: the slow node type needs ten times the CPU work of the fast one (a
#: run's fixed costs, a few seconds on a loaded machine, must not hide the difference).
WORK = {"fast": 4_000_000, "slow": 40_000_000}
SCRIPT = (f"import os\nn = {WORK}[os.environ['WATTWISE_NODE_TYPE']]\nx = 0\n"
          "for i in range(n):\n    x += i\n")
CMD = [sys.executable, "-c", SCRIPT]
#: FR at a hundredth of DE: "train" belongs on FR's slow node unless its measured energy
#: there is over 100 times its fast-node energy (it does 10 times the work). At a ratio
#: of 20 a loaded machine's noise once put it on DE's fast node instead.
INTENSITY = {"DE": 400.0, "FR": 4.0}
#: Seconds between the jobs' windows (at least), so they run one at a time as they were
#: calibrated.
GAP_S = 20.0


@pytest.fixture(scope="module")
def cluster() -> Iterator[Any]:
    ray = pytest.importorskip("ray")
    from ray.cluster_utils import Cluster

    def res(zone: str, node: str) -> dict[str, float]:
        return {zone_resource(zone): 1.0, node_resource(node): 1.0}

    c = Cluster(initialize_head=True, head_node_args={
        "num_cpus": 1, "resources": res("DE", "slow"), "include_dashboard": False})
    c.add_node(num_cpus=1, resources=res("DE", "fast"))
    c.add_node(num_cpus=1, resources=res("FR", "slow"))
    ray.init(address=c.address, log_to_driver=False)
    c.wait_for_nodes()
    yield ray
    ray.shutdown()
    c.shutdown()


def _series(zone: str, now: float) -> IntensitySeries:
    t = now - 60.0 + 1800.0 * np.arange(4)
    return IntensitySeries(t, np.full(4, INTENSITY[zone]), zone, f"test trace {zone}",
                           "forecast", 1800.0)


def _calibrate(ex: RayExecutor, node: str, now: float) -> None:
    job = Job(name=f"calibrate-{node}", duration_s=1.0, earliest_start_unix_s=now,
              deadline_unix_s=now + 600, zones=("DE",))
    a = Assignment(job, "DE", ((now, now + 1.0),), 0.0, 0.0, node=node)
    ex.run_plan(Plan((a,), "calibration", 0.0, 0.0, 0.0, 0.0, 0.0, ("none",)),
                {job.name: CMD})


def _g(summary: dict[str, Any]) -> float:
    """The record's energy times the intensity it was priced at (no PUE, as the plan)."""
    e = summary["emissions"]
    return float(e["energy_kwh"]) * float(e["avg_intensity_g_per_kwh"])


def test_jobs_run_on_the_node_types_and_zones_planned_and_realise_the_saving(
        cluster: Any, tmp_path: Path) -> None:
    db = tmp_path / "runs.db"
    now = time.time()
    forecasts = {z: _series(z, now) for z in INTENSITY}
    pricing = {z: for_series(s, f"the test trace of {z}") for z, s in forecasts.items()}
    ex = RayExecutor(db=db, interval_s=0.1, pricing=pricing)
    offers = ex.offers()
    assert {(o.zone, o.node) for o in offers} == {("DE", "slow"), ("DE", "fast"), ("FR", "slow")}
    for node in ("fast", "slow"):
        _calibrate(ex, node, time.time())
    figures = {n: NodeEnergy.from_run(f"calibrate-{n}", db) for n in ("slow", "fast")}
    assert figures["slow"].energy_j > figures["fast"].energy_j  # ten times the work
    assert all(f.source.startswith("like_run: run") for f in figures.values())

    # One job after another (as they were calibrated). "train" may run in DE or FR:
    # its slow-node energy (under ten times its fast-node energy) in FR beats DE's fast
    # nodes at a hundred times the intensity. "embed" must stay in DE: its fast nodes beat
    # its slow ones.
    # Each window holds the job on its slow node as calibrated: a slow run longer than a
    # window of GAP_S (a loaded machine) fits none, and the plan rightly keeps "train" in
    # DE, on the one node it fits (the plan gave a saving of 0 so, twice, on this machine)
    gap, start = max(GAP_S, 3.0 * figures["slow"].duration_s), time.time() + 2.0
    windows = {n: (start + gap * i, start + gap * (i + 1) - 1.0)
               for i, n in enumerate(("train", "embed"))}
    zones = {"train": ("DE", "FR"), "embed": ("DE",)}
    jobs = [Job(name=n, duration_s=1.0, earliest_start_unix_s=w[0], deadline_unix_s=w[1],
                zones=zones[n], energy_by_node=figures) for n, w in windows.items()]
    the_plan = plan(jobs, forecasts, offers=offers, min_saving_pct=0.0)
    placed = {a.job.name: (a.zone, a.node) for a in the_plan.assignments}
    # "train" on FR's slow node where its measured energy there is under 100 times its
    # fast-node energy (10 times the work: so on a quiet machine); a machine loaded
    # enough to measure more (once, beside three other test runs) puts it on DE's fast
    # node, as the figures say it should
    ratio = figures["slow"].energy_j / figures["fast"].energy_j
    train = ("FR", "slow") if ratio * INTENSITY["FR"] < INTENSITY["DE"] else ("DE", "fast")
    assert placed == {"train": train, "embed": ("DE", "fast")}, (ratio, the_plan.to_dict())
    assert the_plan.saving_pct > 50.0

    results = ex.run_plan(the_plan, {j.name: CMD for j in jobs})
    assert all(r.exit_code == 0 for r in results.values())
    store = Store(db)
    realised = 0.0
    for a in the_plan.assignments:
        rec = store.get_run(a.job.name)
        assert rec.tags["node_type"] == a.node
        assert rec.summary["emissions"]["zone"] == a.zone
        # Priced at the intensity it was planned on (the trace is flat).
        assert rec.summary["emissions"]["avg_intensity_g_per_kwh"] == \
            pytest.approx(INTENSITY[a.zone])
        realised += _g(rec.summary)
    # The usual way (both jobs on the slow DE node, as calibrated) against what the
    # records show: at least half the planned saving is realised, measurement noise
    # of a shared machine included.
    realised_saving = the_plan.baseline_g - realised
    assert realised_saving >= 0.5 * the_plan.saving_g, (realised, the_plan.to_dict())
