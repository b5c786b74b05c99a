"""A runs-list row of a run without a summary gives each note once: a stored value left
out of its pricing is among the row's notes, not again at the head of its emissions note
(which holds the pricing's own notes, such as the zone it was priced at)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests._damage import tracked_run

pytestmark = pytest.mark.usefixtures("no_ambient_zone")


def test_a_note_is_given_once_by_a_row(tmp_path: Path) -> None:
    from wattwise.server import create_app

    db = tmp_path / "r.db"
    tracked_run(db)
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE runs SET summary_json = NULL")
        conn.execute("UPDATE samples SET t_unix_s = 'x' WHERE rowid = (SELECT min(rowid) + 2"
                     " FROM samples)")
    conn.close()
    with TestClient(create_app(db), base_url="http://127.0.0.1") as client:
        (row,) = client.get("/api/runs?all_notes=true").json()["runs"]
    left_out = [n for n in row["notes"] if "are left out of the pricing" in n]
    assert len(left_out) == 1, row["notes"]
    assert left_out[0] not in row["emissions_note"], row["emissions_note"]
    assert row["emissions_note"] == ("priced at zone DE, as the run was started with (the "
                                     "run has no summary)")
