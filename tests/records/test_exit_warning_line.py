"""A run record written at exit, after the command has ended (the file was locked), whose
write then fails (the file turns out another program's) is said in one line as the
exit's wait is ("wattwise: warning: ..."), not in Python's ``file:line: WattwiseWarning``
form with a source line under it."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

_HOLD = """
import sqlite3, sys, time
c = sqlite3.connect(sys.argv[1], isolation_level=None)
c.execute("PRAGMA locking_mode=EXCLUSIVE")  # no other process reads it while held
c.execute("PRAGMA journal_mode=WAL")
c.execute("CREATE TABLE foo(x)")
c.execute("INSERT INTO foo VALUES ('kept')")
open(sys.argv[1] + ".ready", "w").close()
time.sleep(float(sys.argv[2]))
c.close()
"""


def test_a_write_failing_at_exit_is_one_line(tmp_path: Path) -> None:
    db = tmp_path / "other.db"
    holder = subprocess.Popen([sys.executable, "-c", _HOLD, str(db), "3"])
    try:
        deadline = time.monotonic() + 30
        while not Path(f"{db}.ready").exists():
            assert time.monotonic() < deadline and holder.poll() is None
            time.sleep(0.05)
        env = {**os.environ, "WATTWISE_ZONE": "DE", "COLUMNS": "200"}
        r = subprocess.run([sys.executable, "-m", "wattwise", "run", "--db", str(db),
                            "--name", "j", "--", "true"],
                           capture_output=True, text=True, env=env, timeout=180)
    finally:
        holder.wait(timeout=60)
    lines = r.stderr.splitlines()
    said = [line for line in lines if "could not write the run record" in line]
    assert said, r.stderr
    assert said[0].startswith("wattwise: warning: could not write the run record: run "
                              f"database {db} is a SQLite file of another program"), said
    assert "WattwiseWarning" not in r.stderr and "self._on_error" not in r.stderr, r.stderr
    import sqlite3

    conn = sqlite3.connect(db)
    try:
        assert conn.execute("SELECT x FROM foo").fetchall() == [("kept",)]
        assert [n for (n,) in conn.execute("SELECT name FROM sqlite_master")] == ["foo"]
    finally:
        conn.close()
