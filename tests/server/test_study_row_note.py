"""A study's summary (``summary_of``: the variant runs it sums) has no emissions of its
own, and ``wattwise report`` refuses it: the runs list must not say "`wattwise report`
prices it" of such a row, as ``/api/runs/ID`` does not; a run recorded without emissions
keeps that note in both."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from tests.server._runs import fixture_db
from wattwise.records.run_sums import NOT_RECORDED
from wattwise.server.app import create_app


def _without_emissions(db: Path, rid: int, **extra: Any) -> None:
    with sqlite3.connect(db) as conn:
        summary = json.loads(conn.execute("SELECT summary_json FROM runs WHERE id = ?",
                                          (rid,)).fetchone()[0])
        summary.pop("emissions", None)
        summary.update(extra)
        conn.execute("UPDATE runs SET summary_json = ? WHERE id = ?",
                     (json.dumps(summary), rid))


def _notes(db: Path, rid: int) -> tuple[Any, Any]:
    with TestClient(create_app(db), base_url="http://127.0.0.1") as c:
        (row,) = [r for r in c.get("/api/runs").json()["runs"] if r["id"] == rid]
        page = c.get(f"/api/runs/{rid}").json()["run"]["figures"]
    return row.get("emissions_note"), page.get("emissions_note")


def test_a_study_row_says_nothing_report_would_refuse(tmp_path: Path) -> None:
    db = tmp_path / "runs.db"
    ids = fixture_db(db)
    _without_emissions(db, ids["demo"], summary_of={"what": "study", "run_ids": [1]})
    assert _notes(db, ids["demo"]) == (None, None)


def test_a_run_recorded_without_emissions_says_so_in_both(tmp_path: Path) -> None:
    db = tmp_path / "runs.db"
    ids = fixture_db(db)
    _without_emissions(db, ids["demo"])
    assert _notes(db, ids["demo"]) == (NOT_RECORDED, NOT_RECORDED)


def test_a_study_s_key_held_as_null_is_judged_one_way_everywhere(tmp_path: Path) -> None:
    # the runs list took {"summary_of": null} for a study, /metrics' totals counted it
    import re

    db = tmp_path / "runs.db"
    ids = fixture_db(db)
    with TestClient(create_app(db), base_url="http://127.0.0.1") as c:
        before = c.get("/metrics").text
    _without_emissions(db, ids["demo"], summary_of=None)
    with TestClient(create_app(db), base_url="http://127.0.0.1") as c:
        (row,) = [r for r in c.get("/api/runs").json()["runs"] if r["id"] == ids["demo"]]
        after = c.get("/metrics").text

    def total(text: str) -> float:
        return sum(float(v) for v in re.findall(
            r"^wattwise_energy_joules_total\{[^}]*\} (\S+)$", text, re.M))

    assert row.get("summary_of") is True
    with sqlite3.connect(db) as conn:
        energy = json.loads(conn.execute("SELECT summary_json FROM runs WHERE id = ?",
                                         (ids["demo"],)).fetchone()[0])["energy_j"]
    assert abs(total(before) - total(after) - energy) <= 1e-9 * total(before)
