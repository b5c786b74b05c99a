"""``report`` gives a run's energy as every other output gives it, to the last digit: it
gave the priced total read back through kWh (7.3 J as 7.300000000000001 J)."""

from __future__ import annotations

import json
from pathlib import Path

from fastapi.testclient import TestClient
from typer.testing import CliRunner

from wattwise.cli import _register_all, app
from wattwise.records.store import SampleRow, Store

_register_all()
DEAD = 2**22 + 9  # above Linux's largest pid: no such process
START = 1_700_000_000.0


def _cli(*args: str) -> dict:
    r = CliRunner().invoke(app, [*args])
    assert r.exit_code == 0, r.output
    return json.loads(r.stdout)


def test_a_lost_runs_energy_is_the_same_number_in_report(tmp_path: Path) -> None:
    db = tmp_path / "runs.db"
    with Store(db) as store:
        rid = store.create_run(name="lost", started_unix_s=START, host={}, hardware={},
                               sensors=[], versions={}, pid=DEAD)
        store.add_samples(rid, [SampleRow(START + 1 + t, "cpu:model", e, e, e, e, False)
                                for t, e in enumerate((2.0, 2.0, 3.3))])
    assert 2.0 + 2.0 + 3.3 == 7.3 and 7.3 / 3.6e6 * 3.6e6 != 7.3  # what the test needs
    report = _cli("report", str(rid), "--json", "--zone", "DE", "--db", str(db))
    (listed,) = _cli("runs", "--json", "--db", str(db))
    shown = _cli("show", str(rid), "--json", "--db", str(db))
    from wattwise.server import create_app

    with TestClient(create_app(db), base_url="http://127.0.0.1") as client:
        (row,) = client.get("/api/runs").json()["runs"]
    assert report["energy_j"] == listed["energy_so_far"]["energy_j"] == 7.3
    assert shown["energy_so_far"]["energy_j"] == row["energy_j"] == 7.3
