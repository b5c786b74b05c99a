"""Samples that sum past what one run may hold are a damaged record in every output: a
lost run's partial figure and a damaged summary's figure priced again from them give no
energy, no range and no emissions, with the one summed note. Stored sample values left
out of a lost run's figure are said in every output's notes, as ``report`` says them."""

from __future__ import annotations

import csv
import json
import sqlite3
import time
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

import wattwise
from tests.fixtures.fake_sensors import ConstantPowerSensor
from wattwise.cli import _register_all, app

SUMMED = "the summed energy is not usable: implausibly large"


def _cli(*args: str) -> str:
    r = CliRunner().invoke(app, list(args), env={"COLUMNS": "400"})
    assert r.exit_code == 0, (r.stdout, r.stderr)
    return r.stdout


def _recorded(tmp: Path) -> tuple[Path, int]:
    db = tmp / "runs.db"
    with wattwise.track("huge", db=db, sensors=[ConstantPowerSensor({"cpu": 1.0})],
                        interval_s=0.02, zone="DE") as run:
        time.sleep(0.1)
    assert run.flush()
    return db, int(run.run_id)


def _edit(db: Path, *sql: str) -> None:
    with sqlite3.connect(db) as c:
        for one in sql:
            c.execute(one)


def _lost(db: Path, rid: int) -> None:
    """Left as a killed run leaves it: no summary, a row said to be running, long silent."""
    _edit(db, "UPDATE runs SET summary_json = NULL, status = 'running', pid = NULL,"
          f" heartbeat_unix_s = 1 WHERE id = {rid}")


HUGE = ("UPDATE samples SET energy_j = 9e14, low_j = 8e14, high_j = 1e15"
        " WHERE gap = 0")


def _api(db: Path, rid: int) -> tuple[dict[str, Any], dict[str, Any]]:
    from fastapi.testclient import TestClient

    from wattwise.server.app import create_app

    with TestClient(create_app(db), base_url="http://127.0.0.1") as c:
        (row,) = [x for x in c.get("/api/runs").json()["runs"] if x["id"] == rid]
        return row, c.get(f"/api/runs/{rid}").json()


def _codecarbon(db: Path, rid: int, tmp: Path) -> dict[str, str]:
    out = tmp / "cc.csv"
    _cli("export", str(rid), "--format", "codecarbon", "--db", str(db), "--output", str(out))
    with out.open() as f:
        return next(csv.DictReader(f))


def test_a_lost_run_summing_past_the_bound_gives_no_figure_anywhere(tmp_path: Path) -> None:
    _register_all()
    db, rid = _recorded(tmp_path)
    _lost(db, rid)
    _edit(db, HUGE)
    report = json.loads(_cli("report", str(rid), "--json", "--db", str(db)))
    assert report["energy_j"] is None and report["low_j"] is None
    assert report["emissions"] is None and SUMMED in report["energy_note"]
    text = " ".join(_cli("report", str(rid), "--db", str(db)).split())
    assert f"not usable: {report['energy_note']}" in text and "gCO2eq" not in text
    (listed,) = [r for r in json.loads(_cli("runs", "--json", "--db", str(db)))
                 if r["id"] == rid]
    so_far = listed["energy_so_far"]
    assert (so_far["energy_j"], so_far["low_j"], so_far["high_j"]) == (None, None, None)
    assert so_far["note"] == report["energy_note"] and listed["emissions_so_far"] is None
    row, one = _api(db, rid)
    assert row["energy_j"] is None and row["low_j"] is None and row["emissions_g"] is None
    assert row["energy_note"] == report["energy_note"]
    run = one["run"]
    assert run["energy_so_far"]["energy_j"] is None and run["emissions_so_far"] is None
    cc = _codecarbon(db, rid, tmp_path)
    assert cc["energy_consumed"] == cc["emissions"] == cc["cpu_energy"] == ""


def test_a_damaged_summary_repriced_from_samples_past_the_bound_has_no_figure(
        tmp_path: Path) -> None:
    _register_all()
    db, rid = _recorded(tmp_path)
    # a total that disagrees with its own emissions block: priced again from the samples
    _edit(db, "UPDATE runs SET summary_json = json_set(summary_json, '$.energy_j',"
          " json_extract(summary_json, '$.energy_j') * 1.01)", HUGE)
    report = json.loads(_cli("report", str(rid), "--json", "--db", str(db)))
    assert report["energy_j"] is None and report["emissions"] is None
    assert report["energy_note"].startswith(SUMMED)
    text = " ".join(_cli("report", str(rid), "--db", str(db)).split())
    assert f"not usable: {report['energy_note']}" in text and "gCO2eq" not in text
    shown = json.loads(_cli("show", str(rid), "--json", "--db", str(db)))["figures"]
    assert shown["energy_j"] is None and shown["emissions_g"] is None
    assert shown["energy_note"] == report["energy_note"]
    (listed,) = [r for r in json.loads(_cli("runs", "--json", "--db", str(db)))
                 if r["id"] == rid]
    assert listed["figures"] == shown
    row, one = _api(db, rid)
    assert row["energy_j"] is None and row["emissions_g"] is None
    assert row["energy_note"] == report["energy_note"]
    assert one["run"]["figures"] == shown
    cc = _codecarbon(db, rid, tmp_path)
    assert cc["energy_consumed"] == cc["emissions"] == ""
    # the text show and runs say the same note, and never that the run has no samples
    for args in (("show", str(rid)), ("runs",)):
        said = " ".join(_cli(*args, "--db", str(db)).split())
        assert "the summed energy is not" in said, said
        assert "no samples to price" not in said, said


def test_stored_values_left_out_of_a_lost_run_are_said_in_every_output(
        tmp_path: Path) -> None:
    _register_all()
    db, rid = _recorded(tmp_path)
    _lost(db, rid)
    for offset, value in ((1, "'abc'"), (2, "1e308")):
        _edit(db, f"UPDATE samples SET energy_j = {value} WHERE rowid = (SELECT rowid FROM"
              f" samples WHERE run_id = {rid} ORDER BY t_unix_s, rowid LIMIT 1 OFFSET"
              f" {offset})")
    report = json.loads(_cli("report", str(rid), "--json", "--db", str(db)))
    (note,) = [n for n in report["emissions"]["notes"] if "stored value(s)" in n]
    assert note.startswith("2 stored value(s) are not usable") and "'abc'" in note
    (listed,) = [r for r in json.loads(_cli("runs", "--json", "--db", str(db)))
                 if r["id"] == rid]
    assert note in listed["notes"]
    assert note in json.loads(_cli("show", str(rid), "--json", "--db", str(db)))["notes"]
    assert listed["energy_so_far"]["energy_j"] == report["energy_j"]
    row, one = _api(db, rid)
    assert note in row["notes"] and note in one["notes"]
    assert row["energy_j"] == report["energy_j"]
