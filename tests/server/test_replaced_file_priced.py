"""A database file replaced by a copy with an older sample edited (the same rowids) is
priced again at once on a run's page: its grams are never the replaced file's cells
(kept by ``carbon.partial``) scaled to the new file's energy, nor the old file's grams
where a sample moved to another hour of the intensity trace leaves every energy as it
was; ``/metrics`` says the new grams too."""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.fixtures.hourly_trace import write_hourly_trace
from tests.server.test_lost_run_emissions import START
from tests.server.test_lost_run_emissions import _lost_run as lost_run
from wattwise.server.app import create_app

pytestmark = pytest.mark.usefixtures("no_ambient_zone")


def _report_grams(db: Path, rid: int) -> float:
    got = subprocess.run([sys.executable, "-m", "wattwise", "report", str(rid), "--json",
                          "--db", str(db)], capture_output=True, text=True, timeout=120,
                         env={**os.environ, "WATTWISE_ZONE": ""})
    assert got.returncode == 0, got.stderr
    return float(json.loads(got.stdout)["emissions"]["emissions_g"])


def _edit(db: Path, sql: str, params: tuple[Any, ...]) -> None:
    """``sql`` written by another tool, its connection closed (its log put back into the
    file, which is then whole on its own)."""
    with contextlib.closing(sqlite3.connect(db)) as conn, conn:
        conn.execute(sql, params)


def _read(c: TestClient, url: str) -> dict[str, Any]:
    """``url``'s answer, asked again while the dashboard says the file it read was
    rewritten (a 503 that says "try again", as the page asks again)."""
    for _ in range(80):  # the dashboard reopens the file it finds replaced
        got = c.get(url)
        if got.status_code != 503:
            break
        assert "try again" in got.json()["error"]
        time.sleep(0.25)
    assert got.status_code == 200, got.text
    return dict(got.json())


#: The run's sixth sample (older than the newest: the rowids stay).
SIXTH = "(SELECT rowid FROM samples WHERE run_id = ? ORDER BY t_unix_s LIMIT 1 OFFSET 5)"
#: The sample's minute from the run's start.
MINUTE = f"CAST(round((t_unix_s - {START}) / 60) AS INTEGER)"
#: Edits, each with the energy the run then has: the sixth sample's energy and range; its
#: time moved 94 minutes on (from the trace's 200 g/kWh hour into its 400 g/kWh hour, the
#: sums of energy as they were); three samples of one energy moved, the sum of their
#: times kept (minutes 10 and 11 to 100 and 101, minute 100 to 20).
EDITS = {
    "energy": (f"UPDATE samples SET energy_j = 900, low_j = 800, high_j = 1000"
               f" WHERE rowid = {SIXTH}", 216_000 - 900),
    "moved": (f"UPDATE samples SET t_unix_s = t_unix_s + 94 * 60 WHERE rowid = {SIXTH}",
              216_000),
    "three moved": (f"UPDATE samples SET t_unix_s = t_unix_s + 60 * CASE {MINUTE} WHEN 100"
                    f" THEN -80 ELSE 90 END WHERE run_id = ? AND {MINUTE} IN (10, 11, 100)",
                    216_000),
}


@pytest.mark.parametrize("edit", sorted(EDITS))
@pytest.mark.parametrize("status", ["lost", "finished"])
def test_a_replaced_file_is_priced_again_at_once(tmp_path: Path, status: str,
                                                 edit: str) -> None:
    trace = write_hourly_trace(tmp_path / "de.csv", START, [200.0, 400.0, 400.0])
    db = tmp_path / "runs.db"
    rid = lost_run(db, trace)
    if status == "finished":  # ended with a summary no output can read: priced from samples
        _edit(db, "UPDATE runs SET status = 'finished', summary_json = 'not json',"
              " ended_unix_s = ? WHERE id = ?", (START + 7300, rid))
    edited = tmp_path / "edited.db"
    shutil.copy(db, edited)
    change, energy = EDITS[edit]
    _edit(edited, change, (rid,))
    want = _report_grams(edited, rid)
    with TestClient(create_app(db), base_url="http://127.0.0.1") as c:
        assert c.get("/api/runs").status_code == 200
        before = c.get(f"/api/runs/{rid}").json()["run"]["emissions_so_far"]["emissions_g"]
        assert c.get(f"/api/runs/{rid}/timeline").status_code == 200
        os.replace(edited, db)
        run = _read(c, f"/api/runs/{rid}")["run"]
        timeline = _read(c, f"/api/runs/{rid}/timeline")
        metrics = c.get("/metrics").text
    assert before != pytest.approx(want, rel=1e-6)
    assert run["energy_so_far"]["energy_j"] == pytest.approx(energy, rel=1e-12)
    assert run["emissions_so_far"]["emissions_g"] == pytest.approx(want, rel=1e-9)
    assert timeline["emissions"]["cumulative_g"][-1] == pytest.approx(want, rel=1e-9)
    said = re.findall(r'wattwise_emissions_grams_total\{kind="estimated"\} (\S+)', metrics)
    assert said and float(said[0]) == pytest.approx(want, rel=1e-9), metrics
