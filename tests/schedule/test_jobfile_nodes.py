"""The jobs file's ``"on"``: a job's energy per node type, home first, each with its source."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from wattwise.carbon.sources import IntensitySeries
from wattwise.errors import BadInput
from wattwise.schedule import plan
from wattwise.schedule.jobfile import load_jobs
from wattwise.schedule.placement import NodeEnergy, Offer

NOW = 1_790_000_000.0
H = 3600.0


def _file(tmp_path: Path, jobs: object) -> Path:
    p = tmp_path / "jobs.json"
    p.write_text(json.dumps({"jobs": jobs}))
    return p


def _recorded_run(db: Path, name: str, watts: float) -> None:
    import wattwise
    from tests.fixtures.fake_sensors import ConstantPowerSensor

    with wattwise.track(name, sensors=[ConstantPowerSensor({"gpu:0": watts})], db=db):
        time.sleep(0.1)


def _flat(value: float, zone: str) -> IntensitySeries:
    t = NOW + H * np.arange(24)
    return IntensitySeries(t, np.full(24, value), zone, f"flat {zone}", "forecast", H)


def test_on_keeps_the_files_order_and_says_where_each_figure_came_from(tmp_path: Path) -> None:
    db = tmp_path / "r.db"
    _recorded_run(db, "etl-a100", 250.0)
    path = _file(tmp_path, [{"name": "etl", "within": "12h", "zones": ["DE"], "on": {
        "cpu": {"energy_kwh": 0.4, "duration": "3h"},
        "a100": {"like_run": "name:etl-a100"},
        "h100": {"energy_kwh": 0.2, "measured": True},
    }, "duration": "1h"}])
    job = load_jobs(path, NOW, db=db)[0].job
    nodes = job.nodes
    assert list(nodes) == ["cpu", "a100", "h100"]
    assert nodes["cpu"] == NodeEnergy(0.4 * 3.6e6, 3 * H, f"given in {path}", "estimated")
    # An entry without its own duration takes the job's.
    assert nodes["h100"] == NodeEnergy(0.2 * 3.6e6, H, f"given in {path}", "measured")
    a100 = nodes["a100"]
    assert a100.kind == "measured" and a100.source.startswith("like_run: run 1 (etl-a100")
    assert a100.power_w == pytest.approx(250.0, rel=0.05) and 0.1 <= a100.duration_s < 1.0
    # The job itself runs as on its home node type (the first), by a figure given.
    assert job.duration_s == 3 * H and job.power_w == pytest.approx(0.4 * 3.6e6 / (3 * H))
    assert job.power_given


@pytest.mark.parametrize(("on", "msg"), [
    ({"cpu": {"energy_kwh": 1, "duration": "1h", "watts": 3}}, "on 'cpu': unknown field"),
    ({"cpu": 0.4}, "on 'cpu': expected {\"like_run\": RUN}"),
    ({"cpu": {"energy_kwh": 0, "duration": "1h"}}, "on 'cpu': energy_kwh must be a number"),
    ({"cpu": {"energy_kwh": -1, "duration": "1h"}}, "on 'cpu': energy_kwh must be a number"),
    ({"cpu": {"energy_kwh": 1, "duration": "0s"}}, "on 'cpu': duration must be more than 0"),
    ({"cpu": {"energy_kwh": 1}}, "on 'cpu': needs a duration"),
    ({"cpu": {"duration": "1h"}}, "on 'cpu': needs like_run or energy_kwh"),
    ({"cpu": {"like_run": "name:nope"}}, "on 'cpu': no run named 'nope'"),
    ({"cpu": {"like_run": 1, "energy_kwh": 1}}, "on 'cpu': give like_run or energy_kwh"),
    ({"cpu": {"energy_kwh": 1, "duration": "1h", "measured": "yes"}},
     "on 'cpu': measured must be true or false"),
    ({"a@b": {"energy_kwh": 1, "duration": "1h"}}, "on 'a@b': a node type is a non-empty"),
    ({"": {"energy_kwh": 1, "duration": "1h"}}, "on '': a node type is a non-empty"),
    ({}, "on must be an object"),
    ([["cpu", {"energy_kwh": 1}]], "on must be an object"),
])
def test_a_bad_on_entry_is_refused_in_one_line_naming_job_and_node(
    tmp_path: Path, on: Any, msg: str
) -> None:
    db = tmp_path / "r.db"
    _recorded_run(db, "other", 100.0)
    path = _file(tmp_path, [{"name": "etl", "within": "12h", "zones": ["DE"], "on": on}])
    with pytest.raises(BadInput) as info:
        load_jobs(path, NOW, db=db)
    text = str(info.value)
    assert "\n" not in text and text.startswith(f"jobs file {path}: etl: ")
    assert msg in text


def test_on_beside_the_jobs_own_power_is_refused(tmp_path: Path) -> None:
    path = _file(tmp_path, [{"name": "etl", "within": "12h", "zones": ["DE"], "power_w": 300,
                             "on": {"cpu": {"energy_kwh": 1, "duration": "1h"}}}])
    with pytest.raises(BadInput, match="etl: give power_w per node type under on"):
        load_jobs(path, NOW)


def test_each_job_is_planned_on_its_cheaper_offered_node_type_and_zone(tmp_path: Path) -> None:
    path = _file(tmp_path, [
        # 0.25 kWh x 300 = 75 g on the A100 in DE against 1 kWh x 100 = 100 g on CPUs in FR.
        {"name": "train", "within": "12h", "zones": ["DE", "FR"], "on": {
            "cpu": {"energy_kwh": 1.0, "duration": "4h"},
            "a100": {"energy_kwh": 0.25, "duration": "1h", "measured": True}}},
        # 0.2 kWh x 100 = 20 g on CPUs in FR against 0.5 kWh x 300 = 150 g on the A100.
        {"name": "etl", "within": "12h", "zones": ["DE", "FR"], "on": {
            "a100": {"energy_kwh": 0.5, "duration": "1h"},
            "cpu": {"energy_kwh": 0.2, "duration": "2h"}}},
    ])
    specs = load_jobs(path, NOW)
    fc = {"DE": _flat(300.0, "DE"), "FR": _flat(100.0, "FR")}
    p = plan([s.job for s in specs], fc, offers=[Offer("DE", "a100"), Offer("FR", "cpu")])
    by = {a.job.name: a for a in p.assignments}
    assert (by["train"].zone, by["train"].node) == ("DE", "a100")
    assert by["train"].expected_g == pytest.approx(75.0)
    assert by["train"].to_dict()["energy"]["kind"] == "measured"
    assert (by["etl"].zone, by["etl"].node) == ("FR", "cpu")
    assert by["etl"].expected_g == pytest.approx(20.0)
    assert by["etl"].to_dict()["energy"] == {
        "energy_j": 0.2 * 3.6e6, "duration_s": 2 * H, "power_w": 0.2 * 3.6e6 / (2 * H),
        "source": f"given in {path}", "kind": "estimated"}
