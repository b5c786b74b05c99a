"""A run whose stored total energy is not usable (text, not finite, negative, outside its
own range) says so in the runs list as its own page does: the row carries the same note
as ``/api/runs/ID`` and, in place of the damaged value, the figure ``wattwise report``
gives (its samples'), never the damaged one (1e+308, true, "58.7" once stood there)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from tests.fixtures.damaged import stored_figures
from tests.server._runs import fixture_db
from wattwise.cli import _register_all, app
from wattwise.server.app import create_app

_register_all()


def _row_and_page(db: Path, rid: int) -> tuple[dict[str, Any], dict[str, Any]]:
    with TestClient(create_app(db), base_url="http://127.0.0.1") as c:
        rows = c.get("/api/runs").json()["runs"]
        page = c.get(f"/api/runs/{rid}").json()
    (row,) = [r for r in rows if r["id"] == rid]
    return row, page


@pytest.mark.parametrize(("stored", "shown", "why"), [
    ("abc", "abc", "not a number (stored as 'abc')"),
    (-5.0, -5.0, "negative (-5 J)"),
    (6.0, 6.0, "outside its own range (6 J, range 10-30 J)"),
    # a wide range's high set its low's slack: 6 J was read as inside 10-1e8 J
    ((6.0, 1e8), 6.0, "outside its own range (6 J, range 10-1e+08 J)"),
    (float("inf"), None, "not a finite number (stored as inf)"),
    # SQLite reads a stored true as 1: the row says what the run page says of it
    (True, True, "not a number (stored as 'true')"),
    (False, False, "not a number (stored as 'false')"),
    (1e308, 1e308, "implausibly large (1e+308 J, more than 1e+15 J)"),
    ("58.7", "58.7", "not a number (stored as '58.7')"),
    ([1], [1], "not a number (stored as '[1]')"),
    ({"a": 1}, {"a": 1}, "not a number (stored as '{\"a\":1}')"),
])
def test_the_runs_list_row_carries_the_run_page_s_note(
        tmp_path: Path, stored: Any, shown: Any, why: str) -> None:
    db = tmp_path / "runs.db"
    rid = fixture_db(db)["smaller"]
    stored, high = stored if isinstance(stored, tuple) else (stored, 30.0)
    stored_figures(db, rid, energy_j=stored, low_j=10.0, high_j=high)
    row, page = _row_and_page(db, rid)
    note = f"the stored energy is not usable: {why}: a damaged record"
    assert note in page["notes"], page["notes"]
    assert row["energy_note"] == note, row
    assert page["run"]["summary"]["energy_j"] == shown  # the record as stored
    # the row's figure is report's (its samples'), as /api/runs/ID's figures give it
    res = CliRunner().invoke(app, ["report", str(rid), "--db", str(db), "--json"])
    assert res.exit_code == 0, res.output
    reported = json.loads(res.stdout)
    assert row["energy_j"] == reported["energy_j"] == page["run"]["figures"]["energy_j"]
    assert reported["energy_note"] == note == page["run"]["figures"]["energy_note"]
    # the damaged range not shown: the samples' own, as report gives it
    assert (row["low_j"], row["high_j"]) == (reported["low_j"], reported["high_j"])
    assert (row["low_j"], row["high_j"]) != (10.0, high)
    assert row["kind"] == page["run"]["summary"]["kind"]


def test_a_usable_row_has_no_such_note(tmp_path: Path) -> None:
    db = tmp_path / "runs.db"
    rid = fixture_db(db)["smaller"]
    row, page = _row_and_page(db, rid)
    assert "energy_note" not in row and not any("not usable" in n for n in page["notes"])


@pytest.mark.parametrize(("low", "high", "why"), [
    (0.0, True, "high_j (a bound of its range) is not a number (stored as 'true')"),
    (False, 30.0, "low_j (a bound of its range) is not a number (stored as 'false')")])
def test_a_bound_stored_as_a_bool_is_said_as_the_run_page_says_it(
        tmp_path: Path, low: Any, high: Any, why: str) -> None:
    """SQLite reads a stored true as 1: the row judged "a range whose low is above its high
    (12.0563-1 J)" beside the run page's note."""
    from tests._damage import edit_summary, tracked_run

    db = tmp_path / "runs.db"
    rid = tracked_run(db)
    edit_summary(db, rid, lambda s: s.update(low_j=low, high_j=high))
    row, page = _row_and_page(db, rid)
    note = f"the stored energy is not usable: {why}: a damaged record"
    assert note in page["notes"] and row["energy_note"] == note, (row, page["notes"])
    assert all("low is above its high" not in n for n in row.get("notes") or []), row
