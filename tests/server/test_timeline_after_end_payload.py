"""A sample stamped after a finished run's recorded end, through the dashboard's timeline:
left out of the power with the note, and the axis ends at the run's end."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

from starlette.testclient import TestClient

import wattwise
from tests.fixtures.fake_sensors import ConstantPowerSensor
from wattwise.server import create_app


def test_a_sample_after_the_end_is_left_out_and_the_axis_ends_at_the_end(
    tmp_path: Path,
) -> None:
    db = tmp_path / "runs.db"
    sensor = ConstantPowerSensor({"cpu:package": 40.0})
    with wattwise.track("job", db=db, sensors=[sensor], interval_s=0.05) as run:
        time.sleep(0.5)
    assert run.flush() and run.run_id is not None
    rid = run.run_id
    with sqlite3.connect(db) as c:
        c.execute("UPDATE samples SET t_unix_s = t_unix_s + 100 WHERE rowid = (SELECT"
                  " max(rowid) FROM samples WHERE run_id = ?)", (rid,))
    with TestClient(create_app(db), base_url="http://127.0.0.1") as client:
        t = client.get(f"/api/runs/{rid}/timeline").json()
    assert t["end_s"] < 5, t["end_s"]
    assert any("after the run's recorded end" in n for n in t["notes"]), t["notes"]
    for d in t["domains"].values():
        assert max(d["t_s"]) < 5
        assert all(p is None or p > 30 for p in d["power_w"]), d["power_w"]
