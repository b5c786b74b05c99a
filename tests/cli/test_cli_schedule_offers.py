"""`wattwise plan --offer` and `--ray`: jobs placed on unlike node types, only where offered."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from tests.fixtures.hourly_trace import write_hourly_trace
from wattwise.cli import schedule
from wattwise.schedule.placement import Offer

app = typer.Typer()
schedule.register(app)
runner = CliRunner()

#: 0.25 kWh x 300 = 75 g on the A100 in DE against 1 kWh x 100 = 100 g on CPUs in FR;
#: 0.2 kWh x 100 = 20 g on CPUs in FR against 0.5 kWh x 300 = 150 g on the A100 in DE.
JOBS = [
    {"name": "train", "within": "12h", "zones": ["DE", "FR"], "on": {
        "cpu": {"energy_kwh": 1.0, "duration": "4h"},
        "a100": {"energy_kwh": 0.25, "duration": "1h", "measured": True}}},
    {"name": "etl", "within": "12h", "zones": ["DE", "FR"], "on": {
        "a100": {"energy_kwh": 0.5, "duration": "1h"},
        "cpu": {"energy_kwh": 0.2, "duration": "2h"}}},
]
OFFERS = ["--offer", "DE/a100", "--offer", "FR/cpu=2"]


def _setup(tmp_path: Path, jobs: list[dict[str, Any]] = JOBS) -> list[str]:
    """The jobs file and flat traces (DE 300, FR 100 gCO2eq/kWh) as plan's arguments."""
    path = tmp_path / "jobs.json"
    path.write_text(json.dumps({"jobs": jobs}))
    start = 3600 * (int(time.time()) // 3600)
    de = write_hourly_trace(tmp_path / "de.csv", start, [300.0] * 24)
    fr = write_hourly_trace(tmp_path / "fr.csv", start, [100.0] * 24)
    return ["plan", str(path), "--intensity-trace", f"DE={de}", "--intensity-trace", f"FR={fr}"]


def _recorded_run(db: Path, name: str) -> Path:
    """A finished run at 250 W, recorded into ``db``."""
    import wattwise
    from tests.fixtures.fake_sensors import ConstantPowerSensor

    with wattwise.track(name, sensors=[ConstantPowerSensor({"gpu:0": 250.0})], db=db):
        time.sleep(0.1)
    return db


def test_each_job_runs_on_its_cheaper_offered_pair_with_its_energys_source(
    tmp_path: Path,
) -> None:
    args = _setup(tmp_path)
    r = runner.invoke(app, [*args, *OFFERS, "--json"])
    assert r.exit_code == 0, r.output
    by = {a["job"]: a for a in json.loads(r.output)["assignments"]}
    assert (by["train"]["zone"], by["train"]["node"]) == ("DE", "a100")
    assert by["train"]["expected_g"] == pytest.approx(75.0)
    assert (by["etl"]["zone"], by["etl"]["node"]) == ("FR", "cpu")
    assert by["etl"]["expected_g"] == pytest.approx(20.0)
    given = f"given in {tmp_path / 'jobs.json'}"
    assert by["train"]["energy"]["source"] == given
    assert by["train"]["energy"]["kind"] == "measured"
    assert by["etl"]["energy"]["kind"] == "estimated"
    assert by["etl"]["energy"]["energy_j"] == pytest.approx(0.2 * 3.6e6)
    r = runner.invoke(app, [*args, *OFFERS], env={"COLUMNS": "250"})
    assert r.exit_code == 0, r.output
    assert "node" in r.output and "0.25 kWh, measured" in r.output
    assert f"energy: etl on cpu: 0.2 kWh over 2 h, estimated ({given})" in r.output


def test_a_job_that_only_runs_where_nothing_is_offered_is_refused_by_name(
    tmp_path: Path,
) -> None:
    jobs = [*JOBS, {"name": "infer", "within": "12h", "zones": ["DE"],
                    "on": {"tpu": {"energy_kwh": 0.1, "duration": "1h"}}}]
    r = runner.invoke(app, [*_setup(tmp_path, jobs), *OFFERS])
    assert r.exit_code == 2
    line = r.output.strip()
    assert "\n" not in line and line.startswith("wattwise: error:")
    assert "infer (wants DE on tpu" in line and "train" not in line


def test_a_zone_offered_only_on_a_node_type_the_job_lacks_leaves_the_other(
    tmp_path: Path,
) -> None:
    # Only CPUs in DE: train runs on them there (300 g), not on the A100 nowhere offered.
    r = runner.invoke(app, [*_setup(tmp_path, JOBS[:1]), "--offer", "DE/cpu", "--json"])
    assert r.exit_code == 0, r.output
    a = json.loads(r.output)["assignments"][0]
    assert (a["zone"], a["node"]) == ("DE", "cpu")
    assert a["expected_g"] == pytest.approx(300.0)


@pytest.mark.parametrize(("extra", "msg"), [
    (["--offer", "DE/a100", "--capacity", "DE=2"],
     "with --offer give the capacity on each offer (--offer ZONE/NODE=N)"),
    (["--offer", "DE"], "--offer must be ZONE/NODE[=N]"),
    (["--offer", "/cpu"], "--offer must be ZONE/NODE[=N]"),
    (["--offer", "DE/cpu=0"], "N must be a whole number from 1 to"),
    (["--offer", "DE/cpu=two"], "N must be a whole number from 1 to"),
    (["--offer", "DE/cpu", "--offer", "DE/cpu"], "offered more than once: DE@cpu"),
    (["--offer", "DE/a@b"], "a node type is a non-empty name without '@'"),
    (["--offer", "DE/a100", "--ray", "auto"], "pass either --offer or --ray"),
])
def test_bad_offers_are_refused_in_one_line(tmp_path: Path, extra: list[str],
                                            msg: str) -> None:
    r = runner.invoke(app, [*_setup(tmp_path), *extra], env={"COLUMNS": "300"})
    assert r.exit_code == 2, r.output
    assert len(r.output.strip().splitlines()) == 1 and msg in r.output


@pytest.mark.parametrize(("on", "msg"), [
    ({"cpu": {"energy_kwh": 0, "duration": "1h"}}, "etl: on 'cpu': energy_kwh must be"),
    ({"cpu": {"energy_kwh": 1, "duration": "0s"}}, "etl: on 'cpu': duration must be more"),
    ({"cpu": {"energy_kwh": 1, "duration": "1h", "why": 1}}, "etl: on 'cpu': unknown field"),
    ({"cpu": "fast"}, "etl: on 'cpu': expected {"),
    ({"gpu@x": {"energy_kwh": 1, "duration": "1h"}}, "etl: on 'gpu@x': a node type"),
    ({"cpu": {"like_run": "name:nope"}}, "etl: on 'cpu': no run named 'nope'"),
])
def test_a_bad_on_entry_is_exit_2_and_one_line(tmp_path: Path, on: dict[str, Any],
                                               msg: str) -> None:
    db = _recorded_run(tmp_path / "r.db", "other")
    jobs = [{"name": "etl", "within": "12h", "zones": ["DE"], "on": on}]
    r = runner.invoke(app, [*_setup(tmp_path, jobs), "--offer", "DE/cpu", "--db", str(db)],
                      env={"COLUMNS": "300"})
    assert r.exit_code == 2, r.output
    assert len(r.output.strip().splitlines()) == 1 and msg in r.output


def test_like_run_takes_a_recorded_runs_energy_on_that_node_type(tmp_path: Path) -> None:
    db = _recorded_run(tmp_path / "r.db", "etl-on-a100")
    jobs = [{"name": "etl", "within": "12h", "zones": ["DE", "FR"], "on": {
        # A fraction of a watt-hour on the A100 against 1 kWh on CPUs: the A100 wins.
        "a100": {"like_run": "name:etl-on-a100"},
        "cpu": {"energy_kwh": 1.0, "duration": "1h"}}}]
    r = runner.invoke(app, [*_setup(tmp_path, jobs), *OFFERS, "--db", str(db), "--json"])
    assert r.exit_code == 0, r.output
    a = json.loads(r.output)["assignments"][0]
    assert (a["zone"], a["node"]) == ("DE", "a100")
    assert a["energy"]["kind"] == "measured"
    assert a["energy"]["source"].startswith("like_run: run 1 (etl-on-a100")
    # the recorded run's own figures (its sensor gave 250 W; on a loaded machine its
    # samples span less of its window, so its energy over its duration reads lower)
    from wattwise.records.store import Store

    summary = Store(db, readonly=True).get_run(1).summary or {}
    assert a["energy"]["power_w"] == pytest.approx(summary["energy_j"] / summary["duration_s"])
    assert 0 < a["energy"]["power_w"] <= 250.0 * 1.05


def test_ray_plans_on_what_the_clusters_nodes_offer(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    from wattwise.schedule import batch
    from wattwise.schedule.ray_executor import RayExecutor

    asked: list[str | None] = []
    planned: list[Any] = []

    def offers(self: RayExecutor) -> list[Offer]:
        asked.append(self.address)
        return [Offer("DE", "a100"), Offer("FR", "cpu")]

    def run_batch(the_plan: Any, specs: Any, **kw: Any) -> dict[str, Any]:
        planned.append((the_plan, kw["ray_address"]))
        return {}

    monkeypatch.setattr(RayExecutor, "offers", offers)
    monkeypatch.setattr(batch, "run_batch", run_batch)
    jobs = [{**j, "command": ["true"]} for j in JOBS]
    r = runner.invoke(app, [*_setup(tmp_path, jobs), "--ray", "ray://head:10001", "--json"])
    assert r.exit_code == 0, r.output
    assert asked == ["ray://head:10001"]
    the_plan, address = planned[0]
    assert address == "ray://head:10001"
    by = {a.job.name: (a.zone, a.node) for a in the_plan.assignments}
    assert by == {"train": ("DE", "a100"), "etl": ("FR", "cpu")}
