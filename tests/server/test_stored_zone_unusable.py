"""A stored emissions zone that names no zone (a damaged record) is said on the runs list
and the run's page, as ``show`` marks it not usable and ``report`` prices in the zone the
run's carbon options record: both gave the text as the run's zone, with no word."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests._damage import tracked_run
from wattwise.server import create_app

pytestmark = pytest.mark.usefixtures("no_ambient_zone")


def _served(db: Path, rid: int) -> tuple[dict, list[str]]:  # type: ignore[type-arg]
    with TestClient(create_app(db), base_url="http://127.0.0.1") as client:
        (row,) = [r for r in client.get("/api/runs?all_notes=true").json()["runs"]
                  if r["id"] == rid]
        return row, client.get(f"/api/runs/{rid}").json()["notes"]


def test_a_stored_zone_that_is_no_zone_is_said_not_usable(tmp_path: Path) -> None:
    db = tmp_path / "r.db"
    rid, kept = tracked_run(db), tracked_run(db)
    with closing(sqlite3.connect(db)) as conn, conn:
        conn.execute("UPDATE runs SET summary_json = json_set(summary_json,"
                     " '$.emissions.zone', 'Atlantis') WHERE id = ?", (rid,))
    row, notes = _served(db, rid)
    said = "the stored zone is not usable: unknown zone 'Atlantis'"
    assert row["zone"] == "Atlantis" and said in (row.get("emissions_note") or ""), row
    assert any(n.startswith(said) for n in notes), notes
    row, notes = _served(db, kept)
    assert row["zone"] == "DE" and "not usable" not in (row.get("emissions_note") or "")
    assert not any("stored zone" in n for n in notes), notes
