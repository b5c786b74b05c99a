"""A table changed in place under a running dashboard (another program rebuilds the
samples with TEXT columns) is checked again at the next request, as a replaced file is:
503 with the one line, never the impossible figure such a table gives."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from tests._damage import text_typed_samples, tracked_run


def test_a_table_changed_in_place_is_refused_at_the_next_request(tmp_path: Path) -> None:
    from wattwise.server import create_app

    db = tmp_path / "r.db"
    rid = tracked_run(db)
    with TestClient(create_app(db), base_url="http://127.0.0.1") as client:
        assert client.get(f"/api/runs/{rid}").status_code == 200
        assert client.get("/api/runs").status_code == 200
        text_typed_samples(db)
        for url in (f"/api/runs/{rid}", "/api/runs", "/metrics"):
            r = client.get(url)
            assert r.status_code == 503, (url, r.text)
            assert "its tables are not those every wattwise record holds (samples:" in \
                r.json()["error"], r.text
