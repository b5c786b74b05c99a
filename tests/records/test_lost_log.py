"""A ``-wal`` removed while a process writes the file: SQLite's readers say "disk I/O
error" (a failing disk, as far as a user can tell); wattwise says what happened, and the
file reads again once that process has ended."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.server._runs import fixture_db
from wattwise.cli import _register_all, app
from wattwise.records.db_paths import lost_log, open_fault

pytestmark = pytest.mark.usefixtures("no_ambient_zone")

#: A writer that commits through its -wal, has it removed (renamed away: the name points
#: to no log) and commits again, then holds the file until its stdin closes.
_WRITER = """
import os, sqlite3, sys
db = sys.argv[1]
c = sqlite3.connect(db, isolation_level=None)
c.execute("PRAGMA wal_autocheckpoint = 0")
c.execute("UPDATE runs SET name = name || '-1'")
os.rename(db + "-wal", db + "-gone")
c.execute("UPDATE runs SET name = name || '-2'")
print("ready", flush=True)
sys.stdin.read()
c.close()
"""


def _runs(db: Path) -> tuple[int, str]:
    _register_all()
    r = CliRunner().invoke(app, ["runs", "--db", str(db)], env={"COLUMNS": "400"})
    return r.exit_code, r.output


def test_a_log_removed_under_a_writer_is_said_and_the_file_reads_after_it(
        tmp_path: Path) -> None:
    db = tmp_path / "runs.db"
    fixture_db(db)
    writer = subprocess.Popen([sys.executable, "-c", _WRITER, str(db)], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    try:
        assert writer.stdout is not None and writer.stdout.readline() == "ready\n"
        rc, out = _runs(db)
        assert rc == 2, out
        line = out.strip().splitlines()[-1]
        assert line.startswith(f"wattwise: error: run database {db}: cannot open: its log ")
        assert "disk I/O error" not in out
        assert "the -wal was removed or replaced while a process wrote the file" in line
    finally:
        writer.communicate("", timeout=30)
    assert writer.returncode == 0
    rc, out = _runs(db)
    assert rc == 0, out
    with sqlite3.connect(db) as conn:  # the writer's commits, folded in as it closed
        names = [r[0] for r in conn.execute("SELECT name FROM runs")]
    assert names and all(n.endswith("-1-2") for n in names)


def test_a_whole_log_is_no_lost_log(tmp_path: Path) -> None:
    db = tmp_path / "runs.db"
    fixture_db(db)
    conn = sqlite3.connect(db, isolation_level=None)
    try:
        conn.execute("PRAGMA wal_autocheckpoint = 0")
        conn.execute("UPDATE runs SET name = name || '!'")
        assert os.path.getsize(str(db) + "-wal") > 0
        assert lost_log(db) is None
        assert open_fault(db, "disk I/O error") is None
    finally:
        conn.close()
    assert lost_log(db) is None  # no -shm left at all


def test_other_errors_ask_nothing_of_the_log(tmp_path: Path) -> None:
    db = tmp_path / "runs.db"
    fixture_db(db)
    assert open_fault(db, "database is locked") is None
