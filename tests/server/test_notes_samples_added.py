"""Samples added inside a finished run's span while the dashboard serves (another tool's
import, a merged record) reach its notes at the next request, as ``show`` gives them: the
notes are kept by the samples added to the run (``server.sample_writes``), not only by
its first and last sample's time; another run's samples leave them kept."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests._cli_out import cli_out, recorded
from wattwise.cli import _register_all
from wattwise.server import create_app

_register_all()

pytestmark = pytest.mark.usefixtures("no_ambient_zone")

SAME = "share one time stamp with others of their domain"


def _same(notes: list[str]) -> list[str]:
    return [n for n in notes if SAME in n]


def test_samples_added_inside_a_run_s_span_reach_its_notes(tmp_path: Path) -> None:
    db = tmp_path / "r.db"
    first, other = recorded(db), recorded(db)
    with TestClient(create_app(db, port=8787), base_url="http://127.0.0.1:8787") as c:
        def notes(url: str, rid: int) -> list[str]:
            got = c.get(url).json()
            row = next(r for r in got["runs"] if r["id"] == rid) if "runs" in got else got
            return list(row.get("notes", []))

        assert not _same(notes("/api/runs", first))
        assert not _same(notes(f"/api/runs/{first}", first))
        kept = notes("/api/runs", other)
        conn = sqlite3.connect(db)
        with conn:  # two samples of the run again, at their own times, inside its span
            conn.execute("INSERT INTO samples SELECT * FROM samples WHERE run_id = ?"
                         " ORDER BY t_unix_s LIMIT 2 OFFSET 2", (first,))
        conn.close()
        shown = _same(json.loads(cli_out("show", str(first), "--db", str(db), "--json"))["notes"])
        assert shown, "show gives the note"
        assert _same(notes("/api/runs", first)) == shown
        assert _same(notes("/api/runs?all_notes=true", first)) == shown
        assert _same(notes(f"/api/runs/{first}", first)) == shown
        assert notes("/api/runs", other) == kept
