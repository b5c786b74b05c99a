"""A run whose stored sensor lists its ``domains`` as a number (a damaged record):
``report`` and every ``export`` format ended in a traceback ("Value after * must be an
iterable, not int"), where ``show`` and ``runs`` read it."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests._damage import tracked_run
from wattwise.cli import _register_all, app
from wattwise.records.stored_sensors import counted_in_total, sensor_domains


def test_sensor_domains_reads_only_objects() -> None:
    good = {"name": "cpu:0", "component": "cpu"}
    sensors = [{"domains": 5}, {"domains": [good, 3, "x", {"name": 7}]}, 4, None,
               {"domains": {"name": "gpu:0"}}, {"domains": [{"name": "m", "in_total": False}]}]
    assert sensor_domains(sensors) == [good, {"name": 7}, {"name": "m", "in_total": False}]
    assert sensor_domains(5) == sensor_domains(None) == []
    assert counted_in_total(sensors) == {"cpu:0"}


@pytest.mark.parametrize("args", [["report"], ["export", "-f", "json"], ["export", "-f", "csv"],
                                  ["export", "-f", "codecarbon"], ["show"]])
def test_a_damaged_sensor_list_is_read_without_a_traceback(tmp_path: Path,
                                                           args: list[str]) -> None:
    _register_all()
    db = tmp_path / "runs.db"
    rid = tracked_run(db)
    with sqlite3.connect(db) as conn:
        sensors = json.loads(conn.execute("SELECT sensors_json FROM runs").fetchone()[0])
        sensors[0]["domains"] = 5
        conn.execute("UPDATE runs SET sensors_json = ?", (json.dumps(sensors),))
    conn.close()
    got = CliRunner().invoke(app, [args[0], str(rid), *args[1:], "--db", str(db)])
    assert got.exit_code == 0, got.output
    assert got.exception is None or isinstance(got.exception, SystemExit), got.exception
