"""A run whose name holds a "/" is found by name through the API as the CLI finds it
(``name:a%2Fb``: the router reads the "/" as a separator, and answered its bare 404), its
timeline too; a name with a "/" that no run has gets the API's own "no run" message."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from fastapi.testclient import TestClient

from tests.server._runs import fixture_db
from wattwise.server.app import create_app

NAME = "</script>/x/timeline"


def test_a_name_with_a_slash_is_found_by_name(tmp_path: Path) -> None:
    db = tmp_path / "runs.db"
    rid = fixture_db(db)["demo"]
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE runs SET name = ? WHERE id = ?", (NAME, rid))
    quoted = "name:%3C%2Fscript%3E%2Fx%2Ftimeline"
    with TestClient(create_app(db), base_url="http://127.0.0.1") as c:
        got = c.get(f"/api/runs/{quoted}")
        assert got.status_code == 200 and got.json()["run"]["id"] == rid, got.text
        line = c.get(f"/api/runs/{quoted}/timeline?points=50")
        assert line.status_code == 200 and line.json() == c.get(
            f"/api/runs/{rid}/timeline?points=50").json()
        assert c.get(f"/api/runs/{quoted}/timeline?points=1").status_code == 422
        missing = c.get("/api/runs/name:no%2Fsuch")
        assert missing.status_code == 404 and "no run named 'no/such'" in missing.json()["error"]
        assert c.get(f"/api/runs/{rid}/other").status_code == 404
