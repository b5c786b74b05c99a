"""A running run that gains no sample (stalled) whose samples another tool edits in place:
its timeline's buckets were kept by their count, so its note on values left out stayed
as it was for as long as the server ran, while ``/api/runs/ID`` and ``show`` moved on.
They are summed again once ``FULL_RESUM_S`` has passed, as the run's sums are."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from wattwise.records.growing_sums import FULL_RESUM_S
from wattwise.records.store import Store
from wattwise.server import _live, create_app

from ._runs import running_run


def _left_out(timeline: dict) -> list[str]:
    return [n.split(" ")[0] for n in timeline["notes"] if "left out of the timeline" in n]


def test_a_stalled_running_runs_timeline_sees_an_edit_within_a_minute(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db = tmp_path / "runs.db"
    with Store(db) as store:
        rid = running_run(store)
    now = [1000.0]
    monkeypatch.setattr(_live, "clock", lambda: now[0])
    with TestClient(create_app(db), base_url="http://127.0.0.1") as client:
        assert _left_out(client.get(f"/api/runs/{rid}/timeline").json()) == []
        with sqlite3.connect(db) as conn:  # another tool's edit: no sample added
            conn.execute("UPDATE samples SET energy_j = 9.0 WHERE rowid IN"
                         " (SELECT rowid FROM samples WHERE run_id = ? LIMIT 2)", (rid,))
        conn.close()
        now[0] += FULL_RESUM_S
        line = client.get(f"/api/runs/{rid}/timeline").json()
        page = client.get(f"/api/runs/{rid}").json()
    assert page["run"]["status"] == "running"
    assert _left_out(line) == ["2"]
    assert any(n.startswith("2 stored value(s)") for n in page["notes"])
