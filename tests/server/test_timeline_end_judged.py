"""Where a run's samples end, as every output judges it.

- A run still recording is not told its samples lie after the last time it was known
  alive: its recorder writes a batch and moves its heartbeat in one transaction, and a
  reader that read the run's row (its heartbeat) before a later batch finds that batch
  past it. Such samples are new ones, not late stamps.
- A sample whose interval begins a few milliseconds after the run's recorded end (the
  recorder's last read, just after it stamped the end) is the run's: no note, drawn;
  one stamped 100 s late is still left out with the note.
- A lost run's stored last heartbeat that is not usable (before the run's start, text)
  is said, and its duration is from its start to its last sample, the span its
  timeline draws, in every output.
"""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient
from typer.testing import CliRunner

import wattwise
from tests.fixtures.fake_sensors import ConstantPowerSensor
from wattwise.carbon.sample_energy import after_end_note, after_end_notes, sample_time_notes
from wattwise.cli import _register_all, app
from wattwise.records.run_notes import run_notes
from wattwise.records.store import Store
from wattwise.server import create_app
from wattwise.server._sql import Reads
from wattwise.server.data import timeline_payload
from wattwise.server.sample_span import FAST_SPAN_SQL
from wattwise.server.timeline import drawn_buckets, time_notes

WATTS = {"cpu:package": 40.0, "dram": 5.0}


def _alive(notes: list[str]) -> list[str]:
    return [n for n in notes if "known alive" in n]


def test_a_run_still_recording_gets_no_note_from_batches_written_after_its_row_was_read(
    tmp_path: Path,
) -> None:
    db = tmp_path / "runs.db"
    sensor = ConstantPowerSensor(WATTS)
    with wattwise.track("live", db=db, sensors=[sensor], interval_s=0.02) as run:
        time.sleep(0.3)
        assert run.flush() and run.run_id is not None
        with Store(db) as store:
            seen = store.get_run(run.run_id)  # the row as a reader read it first
            assert seen.status == "running" and seen.heartbeat_unix_s is not None
            time.sleep(0.6)  # the recorder writes more batches, moving the heartbeat
            assert run.flush()
            later = store._read("SELECT count(*) FROM samples WHERE run_id = ?"
                                " AND t_unix_s > ?", (run.run_id, seen.heartbeat_unix_s + 0.3))
            assert later[0][0] > 0  # samples well past the heartbeat read with the row
            assert after_end_notes(store, seen) == []
            assert _alive(sample_time_notes(store, seen)) == []
            assert _alive(run_notes(store, seen)) == []
            # the timeline drawn from that row: nothing left out, the axis to its last sample
            reads = Reads(db)
            try:
                count, _first, last = reads.rows(FAST_SPAN_SQL, (seen.id,))[0]
                _w, domains, end = drawn_buckets(reads, seen, last, count, 600)
            finally:
                reads.close()
            assert _alive(time_notes(domains)) == []
            assert end == pytest.approx(last)
            assert not any(n for d in domains.values() for n in d["after_alive"])


def _finished(db: Path) -> int:
    sensor = ConstantPowerSensor(WATTS)
    with wattwise.track("job", db=db, sensors=[sensor], interval_s=0.05) as run:
        time.sleep(0.3)
    assert run.flush() and run.run_id is not None
    return run.run_id


def _last_read_after_end(db: Path, rid: int, late_s: float, interval_s: float) -> None:
    """One more sample per domain stamped ``late_s`` after the run's end, its interval
    ``interval_s`` long, as an earlier recorder's last read was stored."""
    with sqlite3.connect(db) as c:
        (end,) = c.execute("SELECT ended_unix_s FROM runs WHERE id = ?", (rid,)).fetchone()
        for domain, watts in WATTS.items():
            c.execute("INSERT INTO samples (run_id, t_unix_s, domain, energy_j, power_w,"
                      " low_j, high_j, gap) VALUES (?, ?, ?, ?, ?, ?, ?, 0)",
                      (rid, end + late_s, domain, watts * interval_s, watts,
                       watts * interval_s, watts * interval_s))


def test_a_last_read_a_few_ms_after_the_end_is_the_run_s_own(tmp_path: Path) -> None:
    db = tmp_path / "runs.db"
    rid = _finished(db)
    # the record of brkA: last samples 4.6 and 5.05 ms after the end, intervals from after it
    _last_read_after_end(db, rid, 0.00505, 0.0004)
    with Store(db) as store:
        rec = store.get_run(rid)
        assert after_end_notes(store, rec) == []
        assert not [n for n in run_notes(store, rec) if "after the run's recorded end" in n]
        tl = timeline_payload(store, rid)
    assert not [n for n in tl["notes"] if "after the run's recorded end" in n]
    # drawn: the axis reaches the last read (under load the recorder's own last read may
    # land later still: the axis then ends at that one, the run's last sample; in ms)
    with sqlite3.connect(db) as conn:
        newest = conn.execute("SELECT max(t_unix_s) FROM samples WHERE run_id = ?",
                              (rid,)).fetchone()[0]
    last = rec.ended_unix_s + 0.00505 - rec.started_unix_s
    assert tl["end_s"] >= last - 1e-3
    assert tl["end_s"] == pytest.approx(newest - rec.started_unix_s, abs=1e-3)


def test_a_sample_100_s_after_the_end_keeps_its_note(tmp_path: Path) -> None:
    db = tmp_path / "runs.db"
    rid = _finished(db)
    _last_read_after_end(db, rid, 100.0, 0.05)
    with Store(db) as store:
        rec = store.get_run(rid)
        assert after_end_notes(store, rec) == [after_end_note(2)]
        tl = timeline_payload(store, rid)
    assert after_end_note(2) in tl["notes"]
    assert tl["end_s"] < 5


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def _lost_with_heartbeat(db: Path, heartbeat: Any) -> tuple[int, float]:
    """A lost run (no end, no summary, its process gone) whose stored heartbeat is
    ``heartbeat`` (a SQL expression over the row); its start to its last sample."""
    rid = _finished(db)
    with sqlite3.connect(db) as c:
        c.execute("UPDATE runs SET status = 'running', ended_unix_s = NULL, summary_json ="
                  f" NULL, exit_code = NULL, pid = ?, heartbeat_unix_s = {heartbeat}"
                  " WHERE id = ?", (_dead_pid(), rid))
        span = c.execute("SELECT max(s.t_unix_s) - r.started_unix_s FROM samples AS s"
                         " JOIN runs AS r ON r.id = s.run_id WHERE r.id = ?",
                         (rid,)).fetchone()[0]
    return rid, float(span)


@pytest.mark.parametrize(("heartbeat", "why"), [
    ("started_unix_s - 100", "100 s before the run's start"),
    ("'abc'", "not a number (stored as 'abc')"),
    ("1e300", "implausibly far after the run's start (1e+300 s, more than 1e+09 s)"),
])
def test_a_lost_run_s_damaged_heartbeat_is_said_and_its_samples_give_its_duration(
    tmp_path: Path, heartbeat: str, why: str,
) -> None:
    db = tmp_path / "runs.db"
    rid, span = _lost_with_heartbeat(db, heartbeat)
    note = (f"the stored last heartbeat is not usable: {why}: a damaged record; the run's"
            f" duration ({span:.4g} s) is from its start to its last sample")
    with Store(db) as store:
        rec = store.get_run(rid)
        assert rec.status == "lost"
        assert rec.duration_s == pytest.approx(span)
        assert note in run_notes(store, rec)
        assert [r.duration_s for r in store.list_runs() if r.id == rid] == [rec.duration_s]
        tl = timeline_payload(store, rid)
    assert tl["end_s"] == pytest.approx(span, abs=2e-3)
    with TestClient(create_app(db), base_url="http://127.0.0.1") as client:
        row = {r["id"]: r for r in client.get("/api/runs").json()["runs"]}[rid]
        one = client.get(f"/api/runs/{rid}").json()
    assert row["duration_s"] == pytest.approx(span)
    assert one["run"]["duration_s"] == pytest.approx(span)
    assert note in one["notes"]
    _register_all()
    runner = CliRunner()
    for args in (["show", str(rid), "--json"], ["report", str(rid), "--json"],
                 ["runs", "--json"]):
        got = runner.invoke(app, [*args, "--db", str(db)], env={"COLUMNS": "400"})
        assert got.exit_code == 0, got.stdout
        assert note in got.stdout, args
    for args in (["show", str(rid)], ["report", str(rid)]):
        got = runner.invoke(app, [*args, "--db", str(db)])
        assert got.exit_code == 0, got.stdout
        assert note in " ".join(got.stdout.split()), args  # as printed, lines wrapped
    got = runner.invoke(app, ["report", str(rid), "--db", str(db)])
    assert f"over {span:.2f} s" in got.stdout
