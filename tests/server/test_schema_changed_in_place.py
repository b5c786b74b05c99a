"""A table changed in place under a running dashboard (another program rebuilds the
samples with TEXT columns) is checked again at the next request, as a replaced file is:
503 with the one line, never the impossible figure such a table gives."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from fastapi.testclient import TestClient

from tests._damage import tracked_run


def test_a_table_changed_in_place_is_refused_at_the_next_request(tmp_path: Path) -> None:
    from wattwise.server import create_app

    db = tmp_path / "r.db"
    rid = tracked_run(db)
    with TestClient(create_app(db), base_url="http://127.0.0.1") as client:
        assert client.get(f"/api/runs/{rid}").status_code == 200
        assert client.get("/api/runs").status_code == 200
        with sqlite3.connect(db) as conn:
            cols = [r[1] for r in conn.execute("PRAGMA table_info(samples)")]
            conn.executescript(
                "CREATE TABLE s2 AS SELECT * FROM samples; DROP TABLE samples;"
                f" CREATE TABLE samples({', '.join(c + ' TEXT' for c in cols)});"
                " INSERT INTO samples SELECT * FROM s2; DROP TABLE s2;")
        conn.close()
        for url in (f"/api/runs/{rid}", "/api/runs", "/metrics"):
            r = client.get(url)
            assert r.status_code == 503, (url, r.text)
            assert "its tables are not those every wattwise record holds (samples:" in \
                r.json()["error"], r.text
