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

# its table is made once the command has started (it touches .go): a file held with it
# already is refused before the command, from a copy (test_held_copy.py)
_HOLD = """
import os, sqlite3, sys, time
c = sqlite3.connect(sys.argv[1], isolation_level=None)
c.execute("PRAGMA locking_mode=EXCLUSIVE")  # no other process reads it while held
c.execute("PRAGMA journal_mode=WAL")
c.execute("CREATE TABLE t(x)")
c.execute("DROP TABLE t")
open(sys.argv[1] + ".ready", "w").close()
while not os.path.exists(sys.argv[1] + ".go"):
    time.sleep(0.02)
c.execute("CREATE TABLE foo(x)")
c.execute("INSERT INTO foo VALUES ('kept')")
time.sleep(float(sys.argv[2]))
if sys.argv[3:] == ["crash"]:
    os._exit(0)  # its table only in its -wal, which it never folded back
c.close()
"""


def _run_beside(db: Path, hold: list[str], command: list[str]
                ) -> tuple[subprocess.CompletedProcess[str], int]:
    """``wattwise run -- command`` into ``db`` while another program holds it (``_HOLD``
    with ``hold``: seconds, then how it lets go); its answer, and the holder's exit code."""
    holder = subprocess.Popen([sys.executable, "-c", _HOLD, str(db), *hold])
    try:
        deadline = time.monotonic() + 30
        while not Path(f"{db}.ready").exists():
            assert time.monotonic() < deadline and holder.poll() is None
            time.sleep(0.05)
        env = {**os.environ, "WATTWISE_ZONE": "DE", "COLUMNS": "200"}
        r = subprocess.run([sys.executable, "-m", "wattwise", "run", "--db", str(db),
                            "--name", "j", "--", *command],
                           capture_output=True, text=True, env=env, timeout=180)
    finally:
        holder.wait(timeout=60)
    return r, holder.returncode


def test_a_write_failing_at_exit_is_one_line(tmp_path: Path) -> None:
    db = tmp_path / "other.db"
    r, _ = _run_beside(db, ["3"], ["touch", f"{db}.go"])
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


def test_another_programs_file_found_mid_run_is_left_as_it_was(tmp_path: Path) -> None:
    """The other program dies while the command runs, its table only in its -wal: the
    writer, which waited for its lock, refuses the file without folding that -wal into
    it (a read-write connection closed on the refusal did: 4,096 bytes became 8,192 and
    the -wal was gone), and says so in one line (it took two, one naming the file twice)."""
    import hashlib

    db = tmp_path / "other.db"
    r, held = _run_beside(db, ["1", "crash"], ["sh", "-c", f"touch {db}.go; sleep 3"])
    assert held == 0
    # (the lock, held a while after the command started, may be said first)
    said = [line for line in r.stderr.splitlines() if line.startswith("wattwise: warning")
            and "is locked by another process" not in line]
    assert said == [f"wattwise: warning: could not write the run record: run database {db} "
                    "is a SQLite file of another program (tables: foo); left untouched"], \
        r.stderr
    assert db.stat().st_size == 4096, "its header only: the table lies in its -wal"
    wal = Path(f"{db}-wal")
    assert wal.exists() and wal.stat().st_size > 0
    before = hashlib.sha256(wal.read_bytes()).hexdigest()
    import sqlite3

    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        assert conn.execute("SELECT x FROM foo").fetchall() == [("kept",)]
    finally:
        conn.close()
    assert hashlib.sha256(wal.read_bytes()).hexdigest() == before
