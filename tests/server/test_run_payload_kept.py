"""``/api/runs/ID`` of a run whose stored emissions are not usable gives ``wattwise
report``'s grams, priced once: the dashboard passes its own reads, which keep the figure
between requests while the run's row, samples and pricing files stay the same."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.server._runs import fixture_db
from wattwise.server.app import create_app


def test_a_damaged_run_is_priced_once_across_requests(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from wattwise.records import run_sums

    db = tmp_path / "runs.db"
    rid = fixture_db(db)["smaller"]
    with sqlite3.connect(db) as conn:
        s = json.loads(conn.execute("SELECT summary_json FROM runs WHERE id = ?",
                                    (rid,)).fetchone()[0])
        s["emissions"]["emissions_g"] = 1e308
        conn.execute("UPDATE runs SET summary_json = ? WHERE id = ?", (json.dumps(s), rid))
    priced: list[int] = []
    real = run_sums.repriced_share

    def counted(store: Any, run_id: int) -> Any:
        priced.append(run_id)
        return real(store, run_id)

    monkeypatch.setattr(run_sums, "repriced_share", counted)
    with TestClient(create_app(db), base_url="http://127.0.0.1") as c:
        first = c.get(f"/api/runs/{rid}").json()
        after_first = priced.count(rid)
        second = c.get(f"/api/runs/{rid}").json()
    assert after_first >= 1
    assert priced.count(rid) == after_first  # the second request priced nothing again
    grams = first["run"]["figures"]["emissions_g"]
    assert isinstance(grams, float) and 0 < grams < 1e6
    assert second["run"]["figures"] == first["run"]["figures"]
