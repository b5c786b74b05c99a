"""A run whose summary records no carbon options is priced by ``report`` at its stored
PUE; where that is its zone's own (AWS's 1.15 for an AWS zone), ``report`` names its
source as ``show`` does, never "set by the user"."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests._damage import edit_summary, tracked_run
from wattwise.cli import _register_all, app

pytestmark = pytest.mark.usefixtures("no_ambient_zone")


def _pue_lines(*args: str) -> list[str]:
    got = CliRunner().invoke(app, list(args), env={"COLUMNS": "300"})
    assert got.exit_code == 0, got.output
    return [line.strip() for line in got.stdout.splitlines() if line.strip().startswith("PUE ")]


@pytest.mark.parametrize(("zone", "words"), [
    ("aws:eu-west-1", "PUE 1.15: AWS"), ("DE", "PUE 1: default 1.0: local machine")])
def test_report_names_the_zone_s_own_pue_as_show_does(tmp_path: Path, zone: str,
                                                      words: str) -> None:
    _register_all()
    db = tmp_path / "runs.db"
    rid = tracked_run(db, zone=zone)
    edit_summary(db, rid, lambda s: s.pop("carbon_options"))
    shown = _pue_lines("show", str(rid), "--db", str(db))
    told = _pue_lines("report", str(rid), "--db", str(db))
    assert shown == told and len(told) == 1 and told[0].startswith(words), (shown, told)


def test_a_pue_the_user_set_is_still_the_user_s(tmp_path: Path) -> None:
    _register_all()
    db = tmp_path / "runs.db"
    rid = tracked_run(db, zone="aws:eu-west-1")
    edit_summary(db, rid, lambda s: (s.pop("carbon_options"), s["emissions"].update(
        pue=1.4, facility_energy_kwh=s["emissions"]["energy_kwh"] * 1.4,
        emissions_g=s["emissions"]["emissions_g"] / 1.15 * 1.4)))
    told = _pue_lines("report", str(rid), "--db", str(db))
    assert told == ["PUE 1.4: set by the user"], told


def test_a_pue_of_1_the_user_set_stays_the_user_s(tmp_path: Path) -> None:
    """``--pue 1.0`` on a local machine, its options lost: ``show`` gave its stored source,
    "set by the user", and ``report`` "default 1.0: local machine"."""
    import json
    import time

    import wattwise
    from tests.fixtures.fake_sensors import ConstantPowerSensor

    _register_all()
    db = tmp_path / "runs.db"
    with wattwise.track("job", db=db, sensors=[ConstantPowerSensor({"cpu:package": 40.0})],
                        interval_s=0.05, zone="FR", pue=1.0) as run:
        time.sleep(0.3)
    assert run.flush() and run.run_id is not None
    rid = int(run.run_id)
    edit_summary(db, rid, lambda s: s.pop("carbon_options"))
    shown = _pue_lines("show", str(rid), "--db", str(db))
    told = _pue_lines("report", str(rid), "--db", str(db))
    assert shown == told == ["PUE 1: set by the user"], (shown, told)
    got = CliRunner().invoke(app, ["report", str(rid), "--db", str(db), "--json"])
    assert json.loads(got.stdout)["emissions"]["pue_source"] == "set by the user"
