"""The dashboard's API gives a run whose stored emissions are not usable (or whose stored
total is not, which they were priced from) the figures ``wattwise report`` gives, with
the one note: ``/api/runs`` once gave ``emissions_g`` 1e+308, -5.0 and "abc" with no
note, and the stored 0.007837578608577544 g of a run whose total was damaged while
report and /metrics gave 0.007837295864428507 g."""

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
from wattwise.server.app import create_app

_register_all()


def _set(db: Path, rid: int, emissions: Any = ..., **figures: Any) -> None:
    with sqlite3.connect(db) as conn:
        s = json.loads(conn.execute("SELECT summary_json FROM runs WHERE id = ?",
                                    (rid,)).fetchone()[0])
        if emissions is not ...:
            s["emissions"] = emissions
        s.update(figures)
        conn.execute("UPDATE runs SET summary_json = ? WHERE id = ?", (json.dumps(s), rid))


def _em(db: Path, rid: int) -> dict[str, Any]:
    with sqlite3.connect(db) as conn:
        return dict(json.loads(conn.execute("SELECT summary_json FROM runs WHERE id = ?",
                                            (rid,)).fetchone()[0])["emissions"])


def _api(db: Path, rid: int) -> tuple[dict[str, Any], dict[str, Any]]:
    with TestClient(create_app(db), base_url="http://127.0.0.1") as c:
        (row,) = [r for r in c.get("/api/runs?limit=200").json()["runs"] if r["id"] == rid]
        page = c.get(f"/api/runs/{rid}").json()
    return row, page


def _report(db: Path, rid: int) -> dict[str, Any]:
    r = CliRunner().invoke(app, ["report", str(rid), "--json", "--db", str(db)])
    assert r.exit_code == 0, (r.stdout, r.stderr)
    return dict(json.loads(r.stdout))


@pytest.mark.parametrize(("value", "block", "why"), [
    (1e308, False, "implausibly large (1e+308 gCO2eq"),
    (-5.0, False, "negative (-5 gCO2eq)"),
    ("abc", False, "not a number (stored as 'abc')"),
    ("abc", True, "not an object (stored as 'abc')"),
    ([1, 2], True, "not an object (stored as '[1,2]')"),
    (None, True, "missing (stored as null)"),
])
def test_damaged_stored_emissions_give_report_s_grams_with_the_note(
        tmp_path: Path, value: Any, block: bool, why: str) -> None:
    db = tmp_path / "runs.db"
    rid = fixture_db(db)["smaller"]
    _set(db, rid, value if block else {**_em(db, rid), "emissions_g": value})
    row, page = _api(db, rid)
    grams = _report(db, rid)["emissions"]["emissions_g"]
    note = row["emissions_note"]
    assert note.startswith(f"the stored emissions are not usable: {why}")
    assert note.endswith(": a damaged record")
    assert row["emissions_g"] == grams == page["run"]["figures"]["emissions_g"]
    assert page["run"]["figures"]["emissions_note"] == note and note in page["notes"]
    assert row.get("energy_note") is None  # the stored total is usable: kept
    assert row["energy_j"] == page["run"]["summary"]["energy_j"]


def test_a_damaged_total_makes_its_stored_emissions_report_s_too(tmp_path: Path) -> None:
    db = tmp_path / "runs.db"
    rid = fixture_db(db)["smaller"]
    stored = _em(db, rid)["emissions_g"]
    _set(db, rid, energy_j=1e308)
    row, page = _api(db, rid)
    reported = _report(db, rid)
    assert row["emissions_g"] == reported["emissions"]["emissions_g"] != stored
    assert row["energy_j"] == reported["energy_j"] == page["run"]["figures"]["energy_j"]
    assert row["energy_note"] == reported["energy_note"]
    assert row["emissions_note"] == ("the stored emissions are not usable: priced from "
                                     "the stored energy, which is not usable: a damaged record")


def test_a_usable_run_keeps_its_stored_figures_without_notes(tmp_path: Path) -> None:
    db = tmp_path / "runs.db"
    rid = fixture_db(db)["smaller"]
    row, page = _api(db, rid)
    em = _em(db, rid)
    assert row["emissions_g"] == em["emissions_g"] == page["run"]["figures"]["emissions_g"]
    assert "emissions_note" not in row and "energy_note" not in row
    assert page["run"]["figures"]["emissions_note"] is None


def test_damaged_emissions_sort_after_every_figure(tmp_path: Path) -> None:
    db = tmp_path / "runs.db"
    ids = fixture_db(db)
    _set(db, ids["smaller"], {**_em(db, ids["smaller"]), "emissions_g": 1e308})
    with TestClient(create_app(db), base_url="http://127.0.0.1") as c:
        desc = [r["id"] for r in c.get("/api/runs?sort=emissions&order=desc").json()["runs"]]
    assert desc.index(ids["demo"]) < desc.index(ids["smaller"])


def test_the_emissions_curve_ends_at_report_s_figure(tmp_path: Path) -> None:
    """The run page's emissions-so-far curve is scaled to end at the run's grams: never at
    a stored 1e308 g."""
    db = tmp_path / "runs.db"
    rid = fixture_db(db)["smaller"]
    _set(db, rid, {**_em(db, rid), "emissions_g": 1e308})
    with TestClient(create_app(db), base_url="http://127.0.0.1") as c:
        curve = c.get(f"/api/runs/{rid}/timeline").json()["emissions"]["cumulative_g"]
    assert curve[-1] == pytest.approx(_report(db, rid)["emissions"]["emissions_g"], rel=1e-9)
