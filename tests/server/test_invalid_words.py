"""A query value that does not match its pattern is refused in words, never with the
pattern itself (a regex is no message for a user)."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from tests.server._runs import fixture_db
from wattwise.server.app import create_app


def test_a_malformed_id_list_is_refused_in_words(tmp_path: Path) -> None:
    db = tmp_path / "runs.db"
    fixture_db(db)
    with TestClient(create_app(db), base_url="http://127.0.0.1") as client:
        r = client.get("/api/compare", params={"ids": "abc"})
    assert r.status_code == 422
    line = r.json()["error"]
    assert "run ids: 1 to 50 whole numbers separated by commas" in line and "'abc'" in line
    assert "^" not in line and "[0-9]" not in line
