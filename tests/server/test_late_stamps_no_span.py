"""A sample stamped more than ``MAX_DURATION_S`` after its run's start (1e300, or 2e9 s:
a damaged row or a clock set far forward) sets no span anywhere, whatever the run's state:

- a lost run with no heartbeat: every output once failed on it with a traceback (its
  partial figure's note formatted the 1e300 stamp as a date), ``/api/runs`` with a 500;
- a run still recording: its list row and page answered 500, its timeline ran to 1e300;
- a run every one of whose samples is that late: its timeline ran out to 1e300 (a
  usable heartbeat now stands; without one it is drawn to its start), and the note on
  a run without a usable end or heartbeat said "it has no sample" though it had some.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient
from typer.testing import CliRunner

from wattwise.carbon.sample_energy import PartialEnergy
from wattwise.cli import _register_all, app
from wattwise.records.store import SampleRow, Store
from wattwise.server import create_app

_register_all()

pytestmark = pytest.mark.usefixtures("no_ambient_zone")

SENSORS = [{"name": "model", "kind": "estimated", "domains": [
    {"name": "cpu:0", "kind": "estimated", "source": "model", "in_total": True}]}]
ALIVE = "lie after the last time the run was known alive"


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def _run(db: Path, start: float, late: float, *, every: bool = False, pid: int) -> int:
    """A run of 8 samples 0.5 s apart, stored as running with its heartbeat at the last,
    the last (or ``every`` one) moved ``late`` s later."""
    with Store(db) as store:
        rid = store.create_run(name="late", started_unix_s=start, host={"hostname": "h"},
                               hardware={}, versions={}, pid=pid, sensors=SENSORS)
        store.add_samples(rid, [SampleRow(start + 0.5 * k, "cpu:0", 1.0, 2.0, 0.9, 1.1)
                                for k in range(1, 9)])
    with sqlite3.connect(db) as c:
        c.execute("UPDATE runs SET heartbeat_unix_s = ? WHERE id = ?", (start + 4.0, rid))
        c.execute("UPDATE samples SET t_unix_s = t_unix_s + ? WHERE run_id = ?"
                  + ("" if every else " AND t_unix_s = ?"),
                  (late, rid) if every else (late, rid, start + 4.0))
    return rid


def _cli(db: Path, *args: str) -> Any:
    r = CliRunner().invoke(app, [args[0], "--db", str(db), *args[1:]])
    assert r.exit_code == 0, (r.stdout, r.stderr, r.exception)
    return r


@pytest.mark.parametrize("late", [1e300, 2e9])
def test_a_lost_run_without_a_heartbeat_reads_to_its_last_plausible_sample(
        tmp_path: Path, late: float) -> None:
    db, start = tmp_path / "r.db", time.time() - 100.0
    rid = _run(db, start, late, pid=_dead_pid())
    with sqlite3.connect(db) as c:
        c.execute("UPDATE runs SET heartbeat_unix_s = NULL WHERE id = ?", (rid,))
    for args in (("runs",), ("runs", "--json"), ("show", str(rid)), ("report", str(rid)),
                 ("export", str(rid), "-f", "codecarbon")):
        _cli(db, *args)
    shown = _cli(db, "show", str(rid), "--json").stdout
    upto = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(start + 3.5))
    assert f"from 8 samples up to {upto}" in shown, shown
    assert ALIVE in shown, shown
    with TestClient(create_app(db), base_url="http://127.0.0.1") as c:
        assert c.get("/api/runs").status_code == 200
        run = c.get(f"/api/runs/{rid}").json()["run"]
        assert run["energy_so_far"]["up_to_unix_s"] == pytest.approx(start + 3.5)
        assert c.get(f"/api/runs/{rid}/timeline").json()["end_s"] == pytest.approx(3.5)


@pytest.mark.parametrize("late", [1e300, 2e9])
def test_a_run_being_recorded_is_drawn_to_its_last_plausible_sample(
        tmp_path: Path, late: float) -> None:
    db, start = tmp_path / "r.db", time.time() - 5.0
    rid = _run(db, start, late, pid=os.getpid())  # this process: alive, recording
    with sqlite3.connect(db) as c:
        c.execute("UPDATE runs SET heartbeat_unix_s = ? WHERE id = ?", (time.time(), rid))
    with TestClient(create_app(db), base_url="http://127.0.0.1") as c:
        (row,) = c.get("/api/runs?all_notes=true").json()["runs"]
        assert row["status"] == "running" and row["energy_j"] == pytest.approx(8.0)
        assert any(ALIVE in n for n in row["notes"]), row
        page = c.get(f"/api/runs/{rid}")
        assert page.status_code == 200, page.text
        assert "up to 20" in page.json()["run"]["energy_so_far"]["note"]
        timeline = c.get(f"/api/runs/{rid}/timeline").json()
        assert timeline["end_s"] == pytest.approx(3.5), timeline["end_s"]
        assert any(ALIVE in n for n in timeline["notes"])


def test_every_sample_late_keeps_a_usable_heartbeat_as_the_end(tmp_path: Path) -> None:
    db, start = tmp_path / "r.db", time.time() - 100.0
    rid = _run(db, start, 1e300, every=True, pid=_dead_pid())
    with TestClient(create_app(db), base_url="http://127.0.0.1") as c:
        timeline = c.get(f"/api/runs/{rid}/timeline").json()
        assert timeline["end_s"] == pytest.approx(4.0), timeline["end_s"]
        assert any(n.startswith(f"8 sample(s) {ALIVE}") for n in timeline["notes"])


def test_every_sample_late_without_a_usable_end_says_none_lies_in_reach(
        tmp_path: Path) -> None:
    db, start = tmp_path / "r.db", time.time() - 100.0
    rid = _run(db, start, 2e9, every=True, pid=_dead_pid())
    with sqlite3.connect(db) as c:
        c.execute("UPDATE runs SET heartbeat_unix_s = 'x' WHERE id = ?", (rid,))
    shown = _cli(db, "show", str(rid), "--json").stdout
    assert "no sample of it lies from its start to 1e+09 s after it" in shown, shown
    assert "it has no sample" not in shown
    with TestClient(create_app(db), base_url="http://127.0.0.1") as c:
        timeline = c.get(f"/api/runs/{rid}/timeline").json()
        assert timeline["end_s"] == 0.0, timeline["end_s"]


def test_a_partial_note_never_fails_on_a_time_past_any_calendar() -> None:
    part = PartialEnergy(energy_j=1.0, low_j=1.0, high_j=1.0, kind="estimated",
                         status="lost", samples=2, last_sample_unix_s=1e300)
    assert part.note.endswith("from 2 samples up to 1e+300 (unix s)"), part.note
    part = PartialEnergy(energy_j=1.0, low_j=1.0, high_j=1.0, kind="estimated",
                         status="lost", samples=2, last_sample_unix_s=1e300,
                         start_unix_s=1000.0, span_end_unix_s=1003.0)
    assert part.up_to_unix_s == 1003.0


def test_report_gives_no_duration_where_none_is_known(tmp_path: Path) -> None:
    """It printed "over 0.00 s" beside the note saying the duration is not known."""
    db, start = tmp_path / "r.db", time.time() - 100.0
    rid = _run(db, start, 2e9, every=True, pid=_dead_pid())
    with sqlite3.connect(db) as c:
        c.execute("UPDATE runs SET heartbeat_unix_s = 'x' WHERE id = ?", (rid,))
    said = " ".join(_cli(db, "report", str(rid)).stdout.split())  # as wrapped
    assert "over a duration not known" in said and "over 0.00 s" not in said, said
    assert "the run's duration is not known" in said, said


def test_a_lost_run_sampled_only_before_its_start_has_no_span(tmp_path: Path) -> None:
    """The mirror of a late stamp: every sample 2e9 s before the start (a clock set far
    back), no heartbeat. It read "up to 1963-07-19" and a duration of 0."""
    db, start = tmp_path / "r.db", time.time() - 100.0
    rid = _run(db, start, -2e9, every=True, pid=_dead_pid())
    with sqlite3.connect(db) as c:
        c.execute("UPDATE runs SET heartbeat_unix_s = NULL WHERE id = ?", (rid,))
    shown = json.loads(_cli(db, "show", str(rid), "--json").stdout)
    assert shown["duration_s"] is None, shown
    assert shown["energy_so_far"]["up_to_unix_s"] is None
    assert " up to " not in shown["energy_so_far"]["note"], shown["energy_so_far"]["note"]
    assert any("lie before the run's recorded start" in n for n in shown["notes"])
    with TestClient(create_app(db), base_url="http://127.0.0.1") as c:
        (row,) = c.get("/api/runs?all_notes=true").json()["runs"]
        assert row["duration_s"] is None, row


def test_a_figure_that_draws_no_sample_says_so(tmp_path: Path) -> None:
    """It said "8 samples as at most 0 points per domain"."""
    db, start = tmp_path / "r.db", time.time() - 100.0
    rid = _run(db, start, 1e300, every=True, pid=_dead_pid())
    svg = tmp_path / "r.svg"
    _cli(db, "report", str(rid), "--svg", str(svg))
    text = " ".join(svg.read_text().split())
    assert "8 samples, none drawn (the notes say why)" in text, text[-2000:]
    assert "at most 0 points" not in text
