"""A sample whose gap another tool stored as the empty text ``''`` (or blob) is not a gap,
as a sample read back says (``bool('')`` is false) and as ``report`` counts it: every output
(``show``, ``runs --json``, ``report``, the dashboard's list, run page, timeline and
``/metrics``) gives such a file the figures of the same file with ``gap = 0``. The
dashboard summed ``gap = 0`` only, so it left those samples out where ``report`` counted
them (19.8 g on the page against 21.6 g in ``report``)."""

from __future__ import annotations

import contextlib
import re
import shutil
import sqlite3
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.fixtures.hourly_trace import write_hourly_trace
from tests.server.test_lost_run_emissions import START
from tests.server.test_lost_run_emissions import _lost_run as lost_run
from tests.test_figures_agree_empty_summary import _json
from wattwise.cli import _register_all
from wattwise.server import create_app

_register_all()

pytestmark = pytest.mark.usefixtures("no_ambient_zone")


def _figures(db: Path, rid: int) -> dict[str, float]:
    """Run ``rid``'s energy and grams as each output gives them."""
    out: dict[str, float] = {}
    shown = _json(db, "show", str(rid), "--json")
    out["show J"] = shown["energy_so_far"]["energy_j"]
    out["show g"] = shown["emissions_so_far"]["emissions_g"]
    listed = {r["id"]: r for r in _json(db, "runs", "--json")}[rid]
    out["runs J"] = listed["energy_so_far"]["energy_j"]
    report = _json(db, "report", str(rid), "--json")
    out["report J"], out["report g"] = report["energy_j"], report["emissions"]["emissions_g"]
    with TestClient(create_app(db), base_url="http://127.0.0.1") as c:
        row = {r["id"]: r for r in c.get("/api/runs").json()["runs"]}[rid]
        out["list J"] = row["energy_j"]
        run = c.get(f"/api/runs/{rid}").json()["run"]
        out["page J"] = run["energy_so_far"]["energy_j"]
        out["page g"] = run["emissions_so_far"]["emissions_g"]
        timeline = c.get(f"/api/runs/{rid}/timeline").json()
        out["timeline g"] = timeline["emissions"]["cumulative_g"][-1]
        metrics = c.get("/metrics").text
    joules = re.findall(r'wattwise_energy_joules_total\{kind="\w+"\} (\S+)', metrics)
    out["metrics J"] = sum(float(j) for j in joules)
    return out


@pytest.mark.parametrize("status", ["lost", "finished"])
def test_a_gap_stored_as_empty_text_counts_as_no_gap_everywhere(tmp_path: Path,
                                                                 status: str) -> None:
    trace = write_hourly_trace(tmp_path / "de.csv", START, [200.0, 400.0, 400.0])
    zero = tmp_path / "zero.db"
    rid = lost_run(zero, trace)
    with contextlib.closing(sqlite3.connect(zero)) as conn, conn:
        if status == "finished":  # ended without a summary: priced from its samples
            conn.execute("UPDATE runs SET status = 'finished', summary_json = NULL,"
                         " ended_unix_s = ? WHERE id = ?", (START + 7300, rid))
        conn.execute("UPDATE samples SET gap = 1 WHERE rowid IN (SELECT rowid FROM samples"
                     " ORDER BY t_unix_s LIMIT 3 OFFSET 100)")  # a real gap beside them
    text = tmp_path / "text.db"
    shutil.copy(zero, text)
    with contextlib.closing(sqlite3.connect(text)) as conn, conn:
        conn.execute("UPDATE samples SET gap = '' WHERE rowid IN (SELECT rowid FROM samples"
                     " ORDER BY t_unix_s LIMIT 30 OFFSET 70)")  # in both trace hours
        conn.execute("UPDATE samples SET gap = X'' WHERE rowid IN (SELECT rowid FROM samples"
                     " ORDER BY t_unix_s LIMIT 10 OFFSET 5)")  # the empty blob, as falsy
        assert conn.execute("SELECT count(*) FROM samples WHERE gap = ''").fetchone() == (30,)
    want, got = _figures(zero, rid), _figures(text, rid)
    assert want["report J"] == pytest.approx(1800.0 * 117, rel=1e-12)  # 3 gaps of 120
    for key, value in want.items():
        assert got[key] == pytest.approx(value, rel=1e-9), (key, got, want)
    for key in ("show J", "runs J", "list J", "page J", "metrics J"):
        assert got[key] == pytest.approx(want["report J"], rel=1e-9), (key, got)
    for key in ("show g", "page g", "timeline g"):
        assert got[key] == pytest.approx(want["report g"], rel=1e-9), (key, got)
