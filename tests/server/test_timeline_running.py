"""A running run's timeline draws its grid intensity and emissions so far, priced from its
samples as ``wattwise report`` prices it (and as its page's ``emissions_so_far``): it drew
its power alone until the run ended."""

from __future__ import annotations

import json
import sqlite3
from contextlib import closing
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.server._runs import running_run
from wattwise.records.store import Store
from wattwise.server import create_app

pytestmark = pytest.mark.usefixtures("no_ambient_zone")


def _running_in(db: Path, zone: str | None) -> int:
    with Store(db) as store:
        rid = running_run(store)
    if zone is not None:
        with closing(sqlite3.connect(db)) as conn, conn:  # as track() stores them at start
            host = json.loads(conn.execute("SELECT host_json FROM runs WHERE id = ?",
                                           (rid,)).fetchone()[0])
            host["carbon_options"] = {"zone": zone, "intensity_trace": None,
                                      "provider": None, "pue": None}
            conn.execute("UPDATE runs SET host_json = ? WHERE id = ?", (json.dumps(host), rid))
    return rid


def test_a_running_runs_timeline_draws_its_intensity_and_emissions_so_far(
        tmp_path: Path) -> None:
    db = tmp_path / "runs.db"
    rid = _running_in(db, "DE")
    with TestClient(create_app(db), base_url="http://127.0.0.1") as client:
        line = client.get(f"/api/runs/{rid}/timeline").json()
        run = client.get(f"/api/runs/{rid}").json()["run"]
    so_far = run["emissions_so_far"]
    assert run["status"] == "running" and so_far["zone"] == "DE"
    assert line["intensity"]["zone"] == "DE" and line["intensity"]["source"] == so_far["source"]
    drawn = [v for v in line["intensity"]["g_per_kwh"] if v is not None]
    assert drawn and all(v == so_far["avg_intensity_g_per_kwh"] for v in drawn)
    cumulative = [v for v in line["emissions"]["cumulative_g"] if v is not None]
    assert cumulative == sorted(cumulative) and cumulative[-1] > 0
    assert cumulative[-1] == pytest.approx(so_far["emissions_g"], rel=1e-9)
