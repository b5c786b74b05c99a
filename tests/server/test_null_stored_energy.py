"""A summary holding its total energy as null is a damaged record: the runs list
(``/api/runs``) and the run's own address (``/api/runs/ID``) give it the note every other
unusable total gets, and ``/metrics`` counts it with the figure ``report`` gives (its
samples'), as it counts those. A summary
with no total key at all is read as no summary (priced from its samples) and gets no such
note."""

from __future__ import annotations

import json
import re
import sqlite3
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from typer.testing import CliRunner

from tests.fixtures.damaged import stored_figures
from tests.server._runs import fixture_db
from wattwise.cli import _register_all, app
from wattwise.server.app import create_app

_register_all()
NOTE = "the stored energy is not usable: missing (stored as null): a damaged record"
TOTAL = 'wattwise_energy_joules_total{kind="mixed"}'


def _row_page_metrics(db: Path, rid: int) -> tuple[dict[str, Any], dict[str, Any], float]:
    with TestClient(create_app(db), base_url="http://127.0.0.1") as c:
        rows = c.get("/api/runs").json()["runs"]
        page = c.get(f"/api/runs/{rid}").json()
        text = c.get("/metrics").text
    (row,) = [r for r in rows if r["id"] == rid]
    total = re.search(rf"^{re.escape(TOTAL)} (\S+)$", text, re.M)
    assert total is not None, text
    return row, page, float(total.group(1))


def test_a_total_stored_as_null_is_said_not_usable_in_the_list_and_on_its_page(
        tmp_path: Path) -> None:
    db = tmp_path / "runs.db"
    rid = fixture_db(db)["smaller"]
    _, _, before = _row_page_metrics(db, rid)
    with sqlite3.connect(db) as conn:
        lost = conn.execute("SELECT summary_json ->> '$.energy_j' FROM runs WHERE id = ?",
                            (rid,)).fetchone()[0]
    stored_figures(db, rid, energy_j=None, low_j=10.0, high_j=30.0)
    row, page, after = _row_page_metrics(db, rid)
    assert row["energy_note"] == NOTE, row
    assert NOTE in page["notes"], page["notes"]
    # counted as report counts it (its samples), as every other unusable total
    res = CliRunner().invoke(app, ["report", str(rid), "--db", str(db), "--json"])
    assert res.exit_code == 0, res.output
    reported = json.loads(res.stdout)["energy_j"]
    # the row gives that figure too, never the damaged one (null here)
    assert row["energy_j"] == reported, row
    assert abs(after - (before - lost + reported)) <= 1e-9 * before


def test_a_summary_without_a_total_key_gets_no_such_note(tmp_path: Path) -> None:
    db = tmp_path / "runs.db"
    rid = fixture_db(db)["smaller"]
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE runs SET summary_json = json_remove(summary_json, '$.energy_j')"
                     " WHERE id = ?", (rid,))
    row, page, _ = _row_page_metrics(db, rid)
    # no total held: read as no summary (``records.rows.loads_summary``), priced from its
    # samples as one that ended without one, never called a damaged total
    assert row["so_far"] is True and row["energy_j"] > 0, row
    assert "without a summary" in row["energy_note"], row  # its partial figure's note
    assert not any("not usable" in n for n in page["notes"]), page["notes"]
