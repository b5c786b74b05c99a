"""A run killed before its first sample (no end stored, its heartbeat still its start)
ran for a time no record holds: every output gives no duration, not "0.0 s"; one that
stored samples before it was killed has the span its heartbeat gives."""

from __future__ import annotations

import json
from pathlib import Path

from fastapi.testclient import TestClient

from tests._cli_out import cli_out
from wattwise.records.store import SampleRow, Store
from wattwise.server.app import create_app

DEAD = 2**22 + 9  # above Linux's largest pid: no such process
START = 1_700_000_000.0


def _killed(path: Path, *, samples: int) -> int:
    with Store(path) as store:
        rid = store.create_run(name="killed", started_unix_s=START, host={}, hardware={},
                               sensors=[], versions={}, pid=DEAD)
        if samples:
            store.add_samples(rid, [SampleRow(START + t, "cpu:model", 5.0, 5.0, 4.0, 6.0,
                                              False) for t in range(1, samples + 1)])
    return rid


def _durations(db: Path, rid: int) -> dict[str, object]:
    with Store(db, readonly=True) as store:
        record = store.get_run(rid)
    client = TestClient(create_app(db, port=8787), base_url="http://127.0.0.1:8787")
    by_duration = client.get("/api/runs?sort=duration").json()["runs"]
    return {
        "record": record.duration_s,
        "show --json": json.loads(cli_out("show", str(rid), "--db", str(db), "--json"))[
            "duration_s"],
        "runs --json": json.loads(cli_out("runs", "--db", str(db), "--json"))[0]["duration_s"],
        "/api/runs": client.get("/api/runs").json()["runs"][0]["duration_s"],
        "/api/runs sorted": by_duration[0]["duration_s"],
        "/api/runs/ID": client.get(f"/api/runs/{rid}").json()["run"]["duration_s"],
    }


def test_a_run_killed_before_its_first_sample_has_no_duration(tmp_path: Path) -> None:
    db = tmp_path / "r.db"
    rid = _killed(db, samples=0)
    with Store(db, readonly=True) as store:
        record = store.get_run(rid)
    assert record.status == "lost" and record.heartbeat_unix_s == START
    assert _durations(db, rid) == dict.fromkeys(_durations(db, rid), None)
    row = cli_out("runs", "--db", str(db)).splitlines()[3]
    assert "0.0" not in row and " - " in row, row


def test_a_run_killed_after_its_samples_has_its_heartbeat_s_span(tmp_path: Path) -> None:
    db = tmp_path / "r.db"
    rid = _killed(db, samples=3)
    said = _durations(db, rid)
    assert all(isinstance(d, float) and d > 0 for d in said.values()), said
    assert len(set(said.values())) == 1, said
