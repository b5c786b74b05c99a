"""A finished run whose stored summary (or tags) cannot be read says so: the API's
``notes`` and ``show`` name the damaged field, instead of reading as a run that is
still recording or lost before its summary, or as a run with no tags."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from tests.server._runs import fixture_db
from wattwise.cli import _register_all, app
from wattwise.records.run_notes import NO_COUNTED_SAMPLE
from wattwise.server.app import create_app


@pytest.fixture
def damaged(tmp_path: Path) -> tuple[Path, dict[str, Any]]:
    db = tmp_path / "runs.db"
    ids = fixture_db(db)
    with sqlite3.connect(db) as conn:  # as a damaged file or a foreign writer leaves them
        conn.execute("UPDATE runs SET summary_json = ? WHERE id = ?",
                     ('{"energy_j": 1.0, "domains": [', ids["demo"]))
        conn.execute("UPDATE runs SET tags_json = 'not json at all' WHERE id = ?",
                     (ids["smaller"],))
    return db, ids


def _api(db: Path, rid: int) -> dict[str, Any]:
    with TestClient(create_app(db), base_url="http://127.0.0.1") as c:
        res = c.get(f"/api/runs/{rid}")
    assert res.status_code == 200, res.text
    return dict(res.json())


def test_the_api_notes_say_the_stored_summary_cannot_be_read(
    damaged: tuple[Path, dict[str, Any]],
) -> None:
    db, ids = damaged
    got = _api(db, ids["demo"])
    assert got["run"]["status"] == "finished" and got["run"]["summary"] is None
    assert got["run"]["damaged"] == {"summary": "not valid JSON"}
    (note,) = got["notes"]
    assert note.startswith("the stored summary cannot be read (damaged record: not valid JSON)")


def test_the_api_notes_say_the_stored_tags_cannot_be_read(
    damaged: tuple[Path, dict[str, Any]],
) -> None:
    db, ids = damaged
    got = _api(db, ids["smaller"])
    assert got["run"]["tags"] == {} and got["run"]["summary"] is not None
    assert any(n.startswith("the stored tags cannot be read (damaged record: not valid JSON)")
               for n in got["notes"]), got["notes"]


def test_a_run_read_whole_has_no_damage_to_say(damaged: tuple[Path, dict[str, Any]]) -> None:
    db, ids = damaged
    got = _api(db, ids["failed"])
    # it ended without a summary or a sample: that is said, and nothing of damage
    assert "damaged" not in got["run"] and got["notes"] == [NO_COUNTED_SAMPLE]


def test_show_says_the_summary_is_damaged_not_that_the_run_did_not_finish(
    damaged: tuple[Path, dict[str, Any]],
) -> None:
    _register_all()
    db, ids = damaged
    res = CliRunner().invoke(app, ["show", str(ids["demo"]), "--db", str(db)],
                             env={"COLUMNS": "300"})
    assert res.exit_code == 0, res.stderr
    out = " ".join(res.stdout.split())
    assert "the stored summary cannot be read (damaged record: not valid JSON)" in out
    assert "did not finish cleanly" not in out
    tags = CliRunner().invoke(app, ["show", str(ids["smaller"]), "--db", str(db)],
                              env={"COLUMNS": "300"})
    assert "the stored tags cannot be read" in " ".join(tags.stdout.split())
    shown = json.loads(CliRunner().invoke(
        app, ["show", str(ids["demo"]), "--json", "--db", str(db)]).stdout)
    assert shown["damaged"] == {"summary": "not valid JSON"}


def test_the_runs_list_gives_a_damaged_summary_s_run_its_partial_energy_as_its_page_does(
        damaged: tuple[Path, dict[str, Any]]) -> None:
    db, ids = damaged
    page = _api(db, ids["demo"])["run"]["energy_so_far"]
    with TestClient(create_app(db), base_url="http://127.0.0.1") as c:
        rows = c.get("/api/runs").json()["runs"]
    (row,) = [r for r in rows if r["id"] == ids["demo"]]
    assert row["energy_j"] == pytest.approx(page["energy_j"]) and row["energy_j"] > 0
    assert row.get("partial") is True


@pytest.mark.parametrize(("stored", "why"), [
    ("abc", "not a number (stored as 'abc')"), (-5.0, "negative (-5 J)"),
    (6.0, "outside its own range (6 J, range 10-30 J)")])
def test_the_api_says_a_stored_energy_is_not_usable(
        damaged: tuple[Path, dict[str, Any]], stored: Any, why: str) -> None:
    db, ids = damaged
    rid = ids["smaller"]
    with sqlite3.connect(db) as conn:
        summary = json.loads(conn.execute("SELECT summary_json FROM runs WHERE id = ?",
                                          (rid,)).fetchone()[0])
        summary.update(energy_j=stored, low_j=10.0, high_j=30.0)
        conn.execute("UPDATE runs SET summary_json = ? WHERE id = ?", (json.dumps(summary), rid))
    notes = _api(db, rid)["notes"]
    assert f"the stored energy is not usable: {why}: a damaged record" in notes, notes


def test_a_usable_stored_energy_has_no_such_note(damaged: tuple[Path, dict[str, Any]]) -> None:
    db, ids = damaged
    assert not any("not usable" in n for n in _api(db, ids["smaller"])["notes"])
