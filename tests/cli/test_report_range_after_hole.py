"""Samples deleted from the middle of a finished run (a hole): ``report`` priced its range
again from the samples left (1.437-2.255 g) beside every other output's recorded range
(1.435-2.254 g) for the same 1.64 g. Where its grams and energy agree with the recorded
block, the range is the recorded one too."""

from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path

from typer.testing import CliRunner

import wattwise
from tests.fixtures.fake_sensors import ConstantPowerSensor
from wattwise.cli import _register_all, app


def test_reports_range_after_a_hole_is_the_recorded_one(tmp_path: Path) -> None:
    _register_all()
    db = tmp_path / "runs.db"
    sensors = [ConstantPowerSensor({"cpu:package": 40.0}),
               ConstantPowerSensor({"memory:model": 10.0}, kind="estimated", spread=0.5,
                                   component="memory", name="mem")]
    with wattwise.track("job", db=db, sensors=sensors, interval_s=0.05, zone="DE") as run:
        time.sleep(0.6)
    assert run.flush() and run.run_id is not None
    rid = run.run_id
    with sqlite3.connect(db) as conn:  # the measured domain's middle samples deleted
        (t0,) = conn.execute("SELECT started_unix_s FROM runs").fetchone()
        gone = conn.execute("DELETE FROM samples WHERE domain = 'cpu:package' AND t_unix_s"
                            " BETWEEN ? AND ?", (t0 + 0.2, t0 + 0.4)).rowcount
    conn.close()
    assert gone > 0

    def out(*args: str) -> dict:
        got = CliRunner().invoke(app, [*args, str(rid), "--db", str(db), "--json"])
        assert got.exit_code == 0, got.output
        return json.loads(got.stdout)

    shown, reported = out("show")["summary"]["emissions"], out("report")["emissions"]
    for key in ("emissions_g", "low_g", "high_g"):
        assert reported[key] == shown[key], key
