"""A window whose stored low_j is not finite (an infinity SQLite keeps) is a damaged
record named in its energy cell, never nulled without a word: ``show`` once printed its
energy with no range and no note, and ``/api/runs/ID`` counted one null of two."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from fastapi.testclient import TestClient
from typer.testing import CliRunner

from tests.server._runs import fixture_db
from wattwise.cli import _register_all, app
from wattwise.server.app import create_app

_register_all()


def test_a_window_low_that_is_not_finite_is_named(tmp_path: Path) -> None:
    db = tmp_path / "runs.db"
    rid = fixture_db(db)["smaller"]
    with sqlite3.connect(db) as conn:
        wid, name = conn.execute("SELECT id, name FROM windows WHERE run_id = ?"
                                 " ORDER BY start_unix_s, id LIMIT 1", (rid,)).fetchone()
        conn.execute("UPDATE windows SET low_j = -9e999 WHERE id = ?", (wid,))
    said = "low_j (a bound of its range) is not a finite number (stored as -inf)"
    with TestClient(create_app(db), base_url="http://localhost") as c:
        one = c.get(f"/api/runs/{rid}").json()
    (w,) = [w for w in one["windows"] if w["name"] == name][:1]
    assert w["energy_j"] is None and w["low_j"] is None
    assert said in w["energy_note"]
    # every null is named: the bound by its window's note, none left to a bare count
    assert not [n for n in one["notes"] if "not finite numbers" in n]
    r = CliRunner().invoke(app, ["show", str(rid), "--db", str(db)])
    assert r.exit_code == 0, (r.stdout, r.exception)
    out = str(r.stdout)  # the cell wraps: its start and its end
    assert "not usable: low_j (a bound of its range)" in out and "(stored as -inf)" in out
