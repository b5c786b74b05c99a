"""``wattwise runs`` prints a run shorter than a tenth of a second in ms, the figure the
dashboard's runs list and ``show --json`` give, not "0.0 s"."""

from __future__ import annotations

import json
import sqlite3
import time
from contextlib import closing
from pathlib import Path

import pytest

import wattwise
from tests._cli_out import cli_out
from tests._damage import edit_summary
from tests.fixtures.fake_sensors import ConstantPowerSensor
from wattwise.cli import _register_all

_register_all()

pytestmark = pytest.mark.usefixtures("no_ambient_zone")


def test_a_short_run_s_duration_is_printed_in_ms(tmp_path: Path) -> None:
    db = tmp_path / "r.db"
    with wattwise.track("short", db=db, sensors=[ConstantPowerSensor({"cpu:package": 4.0})],
                        interval_s=0.01, zone="DE") as run:
        time.sleep(0.03)
    assert run.flush()
    # as measured where the machine was not loaded (a run of 0.03 s may take longer here)
    edit_summary(db, 1, lambda s: s.update(duration_s=0.0437))
    with closing(sqlite3.connect(db)) as conn, conn:
        conn.execute("UPDATE runs SET ended_unix_s = started_unix_s + 0.0437")
    listed = json.loads(cli_out("runs", "--db", str(db), "--json"))
    duration = listed[0]["duration_s"]
    assert duration == 0.0437, duration
    table = cli_out("runs", "--db", str(db))
    assert f"{duration * 1000:.2f} ms" in table, table
    assert "0.0 s" not in table, table
