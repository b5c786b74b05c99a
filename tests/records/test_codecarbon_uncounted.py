"""CodeCarbon's CPU columns of a run whose CPU package lies inside another domain (``psys``,
not added to its total): left empty with that reason, not "not measured or not recorded
with this run", which a measured domain is not."""

from __future__ import annotations

import csv
import io
import time
from pathlib import Path

import pytest

import wattwise
from tests.fixtures.fake_sensors import ConstantPowerSensor
from wattwise.records.export_codecarbon import export_codecarbon
from wattwise.records.store import Store

pytestmark = pytest.mark.usefixtures("no_ambient_zone")


def test_a_cpu_inside_another_domain_is_said_so(tmp_path: Path) -> None:
    db = tmp_path / "r.db"
    sensors = [ConstantPowerSensor({"psys": 50.0}, component="psys", name="a"),
               ConstantPowerSensor({"pkg0": 30.0}, component="cpu", name="b",
                                   in_total={"pkg0": False})]
    with wattwise.track("psys", db=db, sensors=sensors, interval_s=0.05, zone="DE") as run:
        time.sleep(0.2)
    notes: list[str] = []
    with Store(db) as store:
        rid = int(run.run_id or 0)
        text = export_codecarbon(store.get_run(rid), store.samples(rid), notes=notes)
    (cells,) = list(csv.DictReader(io.StringIO(text)))
    assert cells["cpu_energy"] == "" and cells["cpu_power"] == "", cells
    (said,) = [n for n in notes if "cpu_energy" in n]
    assert said == ("CodeCarbon column(s) cpu_energy, cpu_power left empty: its domain(s) "
                    "pkg0 lie inside another domain of the run, not added to its total: "
                    "their energy is in energy_consumed through it"), notes
    assert float(cells["energy_consumed"]) > 0
