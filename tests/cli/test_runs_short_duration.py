"""``wattwise runs`` prints a run shorter than a tenth of a second in ms, the figure the
dashboard's runs list and ``show --json`` give, not "0.0 s"."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

import wattwise
from tests._cli_out import cli_out
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
    listed = json.loads(cli_out("runs", "--db", str(db), "--json"))
    duration = listed[0]["duration_s"]
    assert 0 < duration < 0.1, duration
    table = cli_out("runs", "--db", str(db))
    assert f"{duration * 1000:.2f} ms" in table, table
    assert "0.0 s" not in table, table
