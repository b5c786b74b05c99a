"""A sample whose stored time is not a finite number (text, a blob, an infinity: another
tool's row) is placed nowhere in time: its timeline leaves it out, and every output says
so in the same one note (only the timeline said it). A time of 1e301 is a number: a sample
after the run's end, as every output counts it (the timeline once called it not finite)."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from starlette.testclient import TestClient
from typer.testing import CliRunner

from tests.server._runs import START, demo_like
from wattwise.cli import _register_all, app
from wattwise.records.store import Store
from wattwise.server import create_app

_register_all()

pytestmark = pytest.mark.usefixtures("no_ambient_zone")

NOTE = "1 sample(s) whose stored time is not a finite number were left out of the timeline"


@pytest.mark.parametrize("stamp", ["'late'", "x'00ff'", "9e999", "-9e999", "1e301"])
def test_every_output_says_a_sample_has_no_place_in_time(tmp_path: Path, stamp: str) -> None:
    db = tmp_path / "runs.db"
    with Store(db) as store:
        rid = demo_like(store, "r", START)
    with sqlite3.connect(db) as c:
        c.execute(f"UPDATE samples SET t_unix_s = {stamp} WHERE rowid = (SELECT rowid FROM"
                  " samples WHERE run_id = ? LIMIT 1 OFFSET 3)", (rid,))
    r = CliRunner().invoke(app, ["show", str(rid), "--db", str(db), "--json"])
    assert r.exit_code == 0, (r.stdout, r.stderr)
    said = {"show": json.loads(r.stdout)["notes"]}
    with TestClient(create_app(db), base_url="http://127.0.0.1") as c:
        said["list"] = c.get("/api/runs?all_notes=true").json()["runs"][0]["notes"]
        said["run"] = c.get(f"/api/runs/{rid}").json()["notes"]
        said["timeline"] = c.get(f"/api/runs/{rid}/timeline").json()["notes"]
    for where, notes in said.items():
        placed = [n for n in notes if n.startswith(NOTE)]
        after = [n for n in notes if "after the run's recorded end" in n]
        if stamp == "1e301":
            assert not placed and len(after) == 1, (where, notes)
        else:
            assert len(placed) == 1 and not after, (where, notes)
