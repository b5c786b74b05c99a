"""`export -f codecarbon` of a run priced with a PUE writes CodeCarbon's facility energy
(CodeCarbon multiplies each component's energy by the PUE) and says so on stderr."""

from __future__ import annotations

import csv
import io
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

import wattwise
from tests.fixtures.fake_sensors import ConstantPowerSensor
from wattwise.cli import _register_all, app
from wattwise.records.store import Store

_register_all()
runner = CliRunner()

pytestmark = pytest.mark.usefixtures("no_ambient_zone")


def _record_with_pue(db: Path, pue: float) -> int:
    sensor = ConstantPowerSensor({"cpu:package": 40.0})
    with wattwise.track("job", db=db, sensors=[sensor], interval_s=0.05, zone="DE",
                        pue=pue) as run:
        time.sleep(0.3)
    assert run.run_id is not None
    return int(run.run_id)


def _stored_j(db: Path, run_id: int) -> float:
    with Store(db, readonly=True) as store:
        summary = store.get_run(run_id).summary
    assert isinstance(summary, dict)
    return float(summary["energy_j"])


def _codecarbon(db: Path, run_id: int) -> tuple[dict[str, str], list[str]]:
    out = db.parent / f"cc{run_id}.csv"
    r = runner.invoke(app, ["export", str(run_id), "-f", "codecarbon", "-o", str(out),
                            "--db", str(db)])
    assert r.exit_code == 0, r.output
    (row,) = list(csv.DictReader(io.StringIO(out.read_text())))
    return row, [x for x in r.stderr.splitlines() if x.startswith("wattwise: note:")]


def test_a_pue_run_writes_facility_energy_and_says_so(tmp_path: Path) -> None:
    db = tmp_path / "r.db"
    run_id = _record_with_pue(db, 1.3)
    it_j = _stored_j(db, run_id)
    row, notes = _codecarbon(db, run_id)
    # CodeCarbon's meaning: IT energy x PUE, the component columns too
    assert float(row["energy_consumed"]) * 3.6e6 == pytest.approx(it_j * 1.3, rel=1e-9)
    assert float(row["cpu_energy"]) * 3.6e6 == pytest.approx(it_j * 1.3, rel=1e-9)
    said = [n for n in notes if "facility" in n]
    assert len(said) == 1, notes
    assert f"{it_j:.6g} J x PUE 1.3 = {it_j * 1.3:.6g} J" in said[0]
    assert f"the run's own figure is {it_j:.6g} J" in said[0]


def test_a_run_at_pue_1_has_no_facility_note(tmp_path: Path) -> None:
    db = tmp_path / "r.db"
    run_id = _record_with_pue(db, 1.0)
    row, notes = _codecarbon(db, run_id)
    it_j = _stored_j(db, run_id)
    assert float(row["energy_consumed"]) * 3.6e6 == pytest.approx(it_j, rel=1e-9)
    assert not [n for n in notes if "facility" in n], notes
