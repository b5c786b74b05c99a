"""``/metrics`` before the database exists gives the runs by status at 0, as an empty
database does: it gave no ``wattwise_runs`` series at all, and the Grafana dashboard's
panels (docs/grafana-dashboard.json) read "No data" where they read 0 a moment later."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from wattwise.records.store import Store
from wattwise.server import create_app

BASE = "http://127.0.0.1:8787"


def _runs(text: str) -> dict[str, float]:
    (family,) = [f for f in text_string_to_metric_families(text) if f.name == "wattwise_runs"]
    return {s.labels["status"]: s.value for s in family.samples}


def test_runs_by_status_are_0_before_the_database_exists_as_in_an_empty_one(
    tmp_path: Path,
) -> None:
    missing, empty = tmp_path / "later" / "runs.db", tmp_path / "empty.db"
    missing.parent.mkdir()
    Store(empty).close()
    with closing(sqlite3.connect(empty)) as conn:
        assert conn.execute("SELECT count(*) FROM runs").fetchone() == (0,)
    seen = []
    for path in (missing, empty):
        with TestClient(create_app(path, port=8787), base_url=BASE) as client:
            seen.append(_runs(client.get("/metrics").text))
    assert seen[0] == seen[1] and seen[0], seen
    assert set(seen[0].values()) == {0.0} and {"running", "lost", "finished"} <= set(seen[0])
    assert not missing.exists()  # read only: nothing made
