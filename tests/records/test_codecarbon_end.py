"""The CodeCarbon export's ``timestamp`` (the run's end) of a lost run is the end every
output judges: its start plus its duration (to its last heartbeat, or to its last sample
where the stored heartbeat is not usable), never a stored heartbeat that is not usable
(1e300, text, before its start), which is said in a note, in every output's words."""

from __future__ import annotations

import csv
import io
import sqlite3
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

import wattwise
from tests.fixtures.fake_sensors import ConstantPowerSensor
from wattwise.carbon.stored_times import heartbeat_notes
from wattwise.cli import _register_all, app
from wattwise.records.export_codecarbon import export_codecarbon
from wattwise.records.store import Store

pytestmark = pytest.mark.usefixtures("no_ambient_zone")

#: The run's start is moved this much earlier, so its end is whole seconds after it.
EARLIER_S = 20.0


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def _lost(db: Path, heartbeat: str, samples: bool = True) -> int:
    """A recorded run left as a killed recorder leaves it (no end, no summary, its process
    gone), started ``EARLIER_S`` before its samples, its heartbeat ``heartbeat`` (SQL)."""
    with wattwise.track("job", db=db, sensors=[ConstantPowerSensor({"cpu:package": 40.0})],
                        interval_s=0.05) as run:
        time.sleep(0.3)
    assert run.flush() and run.run_id is not None
    rid = run.run_id
    with sqlite3.connect(db) as c:
        c.execute("UPDATE runs SET status = 'running', ended_unix_s = NULL, summary_json ="
                  " NULL, exit_code = NULL, pid = ?, started_unix_s = started_unix_s - ?"
                  " WHERE id = ?", (_dead_pid(), EARLIER_S, rid))
        c.execute(f"UPDATE runs SET heartbeat_unix_s = {heartbeat} WHERE id = ?", (rid,))
        if not samples:
            c.execute("DELETE FROM samples WHERE run_id = ?", (rid,))
    return rid


def _export(db: Path, rid: int) -> tuple[dict[str, str], list[str]]:
    _register_all()
    got = CliRunner().invoke(app, ["export", str(rid), "-f", "codecarbon", "--db", str(db)])
    assert got.exit_code == 0, (got.stdout, got.stderr)
    (row,) = csv.DictReader(io.StringIO(got.stdout))
    notes = [line.removeprefix("wattwise: note: ") for line in got.stderr.splitlines()
             if line.startswith("wattwise: note: ")]
    return row, notes


def _local(t: float) -> str:
    """A time as CodeCarbon writes its timestamp (local, to the second)."""
    return datetime.fromtimestamp(t).strftime("%Y-%m-%dT%H:%M:%S")


@pytest.mark.parametrize("heartbeat", [
    "1e300", "'abc'", "started_unix_s - 100",
    "(SELECT max(t_unix_s) FROM samples WHERE run_id = runs.id)",  # a usable one
])
def test_a_lost_run_s_codecarbon_end_is_its_start_plus_its_judged_duration(
    tmp_path: Path, heartbeat: str,
) -> None:
    db = tmp_path / "runs.db"
    rid = _lost(db, heartbeat)
    with Store(db) as store:
        rec = store.get_run(rid)
        assert rec.status == "lost" and rec.duration_s is not None
        assert rec.duration_s > EARLIER_S  # to its last sample, as every output gives it
        said = heartbeat_notes(rec)
        notes: list[str] = []
        export_codecarbon(rec, notes=notes, store=store)  # the library call says it too
    assert bool(said) == ("max(t_unix_s)" not in heartbeat)
    row, printed = _export(db, rid)
    assert float(row["duration"]) == pytest.approx(rec.duration_s)
    assert row["timestamp"] == _local(rec.started_unix_s + rec.duration_s)
    for note in said:  # the damaged heartbeat, once, in every output's words
        assert printed.count(note) == 1, printed
        assert notes.count(note) == 1, notes


def test_a_lost_run_with_no_end_known_leaves_its_timestamp_empty_and_says_why(
    tmp_path: Path,
) -> None:
    db = tmp_path / "runs.db"
    rid = _lost(db, "1e300", samples=False)
    with Store(db) as store:
        rec = store.get_run(rid)
    assert rec.duration_s is None and rec.heartbeat_fault
    row, printed = _export(db, rid)
    assert row["timestamp"] == "" and row["duration"] == ""
    (why,) = [n for n in printed if "timestamp" in n]
    assert why == ("CodeCarbon column(s) timestamp, duration left empty: the run's end is "
                   "not known: its stored last heartbeat is not usable and no sample of it lies"
                   " from its start to 1e+09 s after it")
    assert heartbeat_notes(rec)[0] in printed
