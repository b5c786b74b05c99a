"""Each row of ``/api/runs`` carries the run's notes as ``runs --json`` and
``/api/runs/ID`` give them (a stored PUE or average power set aside, not only a
duration), and a summary holding a NaN or infinity (which Python's json writes and
SQLite's JSON cannot read: a summary that cannot be read, in every output) gets the
same duration and the same one note in each."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

import wattwise
from tests._damage import edit_summary
from tests.fixtures.fake_sensors import ConstantPowerSensor
from wattwise.cli import _register_all, app
from wattwise.records.store import Store
from wattwise.server.data import run_payload, runs_payload

_register_all()

pytestmark = pytest.mark.usefixtures("no_ambient_zone")


def _recorded(db: Path) -> int:
    with wattwise.track("job", db=db, sensors=[ConstantPowerSensor({"cpu:package": 40.0,
                                                                    "dram:0": 5.0})],
                        interval_s=0.05, zone="DE") as run:
        time.sleep(0.3)
    assert run.flush() and run.run_id is not None
    return int(run.run_id)


def _nan_power(s: dict[str, Any]) -> None:
    s["domains"][1]["avg_power_w"] = float("nan")


#: A summary holding a constant no JSON number is (``records.rows.loads``).
UNREAD = ("the stored summary cannot be read (damaged record: not valid JSON ({} is not a "
          "JSON number))")
DAMAGE: dict[str, tuple[Callable[[dict[str, Any]], None], str]] = {
    "pue 0": (lambda s: s["emissions"].update(pue=0), "the stored PUE is not usable"),
    "power 1e300": (lambda s: s.update(avg_power_w=1e300),
                    "the stored average power is not usable"),
    "duration NaN": (lambda s: s.update(duration_s=float("nan")), UNREAD.format("NaN")),
    "duration inf": (lambda s: s.update(duration_s=float("inf")),
                     UNREAD.format("Infinity")),
    "power NaN": (_nan_power, UNREAD.format("NaN")),
}


@pytest.mark.parametrize("case", list(DAMAGE))
def test_a_runs_list_row_gives_the_runs_notes_and_duration(tmp_path: Path,
                                                           case: str) -> None:
    db = tmp_path / "r.db"
    rid = _recorded(db)
    other = _recorded(db)  # untouched: no note anywhere
    change, said = DAMAGE[case]
    edit_summary(db, rid, change)
    r = CliRunner().invoke(app, ["runs", "--db", str(db), "--json"])
    assert r.exit_code == 0, (r.stdout, r.stderr)
    cli = {x["id"]: x for x in json.loads(r.stdout)}
    with Store(db, readonly=True) as store:
        page = runs_payload(store)
        rows = {x["id"]: x for x in page["runs"]}
        api = run_payload(store, rid)
    notes = cli[rid]["notes"]
    assert [n.startswith(said) for n in notes].count(True) == 1, notes
    assert rows[rid]["duration_s"] == cli[rid]["duration_s"] == api["run"]["duration_s"]
    assert not [n for n in api["notes"] if "not finite numbers" in n], api["notes"]
    assert rows[rid].get("notes") == notes == api["notes"], (rows[rid], api["notes"])
    assert "notes" not in page  # every figure of the page is a finite number
    assert cli[other]["notes"] == [] and "notes" not in rows[other]
