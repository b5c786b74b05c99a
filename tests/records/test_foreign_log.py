"""Another database's ``-wal`` and ``-shm`` at a path (``records.foreign_log``).

A database renamed or moved away while a process still writes it leaves that process
holding the ``-wal`` and ``-shm`` named after the path. A run started there, or a
database moved in, was then refused in SQLite's words alone: "cannot open: disk I/O
error", or "is damaged ... Save what still reads", of a file that was whole. The line
now says whose log it is, and the file is left whole."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import pytest

import wattwise
from tests.fixtures.fake_sensors import ConstantPowerSensor
from wattwise.records import foreign_log
from wattwise.records.foreign_log import foreign_log_holders, foreign_log_note
from wattwise.records.store import Store

pytestmark = pytest.mark.skipif(not Path("/proc/locks").exists(),
                                reason="reads /proc/locks (Linux)")

#: A process writing a database in WAL mode, its frames left in the -wal until its
#: input ends; then it folds the -wal into the file it has open and closes it, as a
#: wattwise writer does (SQLite's own close folds nothing into a file renamed since).
HOLDER = """
import sqlite3, sys
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("PRAGMA journal_mode=WAL")
conn.execute("PRAGMA wal_autocheckpoint=0")
conn.execute("CREATE TABLE t(x)")
for _ in range(20):
    conn.execute("INSERT INTO t VALUES (randomblob(3000))")
print("ready", flush=True)
sys.stdin.read()
conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
conn.close()
"""


@pytest.fixture
def holder(tmp_path: Path) -> Iterator[subprocess.Popen[str]]:
    proc = subprocess.Popen([sys.executable, "-c", HOLDER, str(tmp_path / "a.db")],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None and proc.stdout.readline() == "ready\n"
        yield proc
    finally:
        _end(proc)
        assert proc.stdout is not None
        proc.stdout.close()


def _end(proc: subprocess.Popen[str]) -> None:
    """End the holder as a program ends: it closes its database."""
    if proc.stdin is not None and not proc.stdin.closed:
        proc.stdin.close()
    assert proc.wait(timeout=60) == 0


@pytest.fixture
def three_runs(tmp_path: Path) -> Path:
    path = tmp_path / "three.db"
    for _ in range(3):
        with wattwise.track("t", db=path, sensors=[ConstantPowerSensor({"cpu:0": 9.0})],
                            interval_s=0.05, carbon=False):
            pass
    copy = tmp_path / "copy.db"  # whole in one file, its -wal folded in: to move about
    with closing(sqlite3.connect(path)) as src, closing(sqlite3.connect(copy)) as dst:
        src.backup(dst)
    return copy


def _wattwise(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "wattwise", *args], capture_output=True,
                          text=True, timeout=120)


def test_a_process_with_the_file_open_is_no_foreign_holder(
    tmp_path: Path, holder: subprocess.Popen[str]
) -> None:
    # two processes writing one database hold its -shm alike: nothing to say
    assert foreign_log_holders(tmp_path / "a.db") == []
    assert foreign_log_note(tmp_path / "a.db") is None
    os.rename(tmp_path / "a.db", tmp_path / "b.db")
    assert foreign_log_holders(tmp_path / "a.db") == [holder.pid]  # no file at the path
    (tmp_path / "a.db").write_bytes(b"")
    assert foreign_log_holders(tmp_path / "a.db") == [holder.pid]
    note = foreign_log_note(tmp_path / "a.db")
    assert note is not None and f"held by process {holder.pid} (" in note
    assert "import sqlite3, sys conn" in note and "\n" not in note  # its command, one line
    _end(holder)
    assert foreign_log_holders(tmp_path / "a.db") == []


def test_without_proc_locks_nothing_is_found(
    tmp_path: Path, holder: subprocess.Popen[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    os.rename(tmp_path / "a.db", tmp_path / "b.db")
    (tmp_path / "a.db").write_bytes(b"")
    monkeypatch.setattr(foreign_log, "_PROC_LOCKS", tmp_path / "none")
    assert foreign_log_holders(tmp_path / "a.db") == []


def test_a_run_at_a_renamed_database_s_path_is_told_whose_log_is_there(
    tmp_path: Path, holder: subprocess.Popen[str]
) -> None:
    os.rename(tmp_path / "a.db", tmp_path / "b.db")
    out = _wattwise("run", "--db", str(tmp_path / "a.db"), "--", sys.executable, "-c", "0")
    assert out.returncode == 2, out
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and f"held by process {holder.pid} (" in lines[0]
    assert "which has another database open under them" in lines[0], lines
    assert "nothing is opened or written" in lines[0], lines
    _end(holder)
    # the renamed file has every row: an open at the path once reset the holder's -wal
    # (SQLite's "disk I/O error"), and its last rows never reached it
    with closing(sqlite3.connect(tmp_path / "b.db")) as conn:
        assert conn.execute("SELECT count(*) FROM t").fetchone() == (20,)
    assert not (tmp_path / "a.db").exists()


def test_a_database_moved_over_the_path_is_not_called_damaged_and_stays_whole(
    tmp_path: Path, holder: subprocess.Popen[str], three_runs: Path
) -> None:
    os.rename(tmp_path / "a.db", tmp_path / "b.db")
    os.replace(three_runs, tmp_path / "a.db")
    out = _wattwise("runs", "--db", str(tmp_path / "a.db"))
    assert out.returncode == 2, out
    line = out.stderr.strip()
    assert "\n" not in line and f"held by process {holder.pid}" in line, line
    assert "another program" not in line and "damaged" not in line
    _end(holder)
    with Store(tmp_path / "a.db", readonly=True) as store:  # whole, its 3 runs kept
        assert len(store.list_runs()) == 3
    with closing(sqlite3.connect(tmp_path / "a.db")) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)


def test_a_holder_seen_once_in_passing_is_no_holder(monkeypatch: pytest.MonkeyPatch) -> None:
    """A process ending with the database open lets go of the file before its -shm: one
    look in that instant found a holder of the log without the file, and 2 % of opens
    beside a loop of `sqlite3` reads were refused. A holder must be there on each look."""
    monkeypatch.setattr(foreign_log, "_locking", lambda path: {4242, 7})
    looks = iter([True, True, False, True, True, True])
    monkeypatch.setattr(foreign_log, "_foreign", lambda pid, path: pid == 4242 and next(looks))
    monkeypatch.setattr(foreign_log, "LOOKS_APART_S", (0.0, 0.0))
    assert foreign_log_holders("x.db") == []  # gone on the third look
    assert foreign_log_holders("x.db") == [4242]  # there on all three


def test_a_path_through_a_link_is_refused_as_its_target_is(
    tmp_path: Path, holder: subprocess.Popen[str]
) -> None:
    """SQLite names the side files after a link's target: a run through a link to the
    renamed database's old path was let through, failed with "disk I/O error", and
    emptied the log the renamed file's last rows were in."""
    link = tmp_path / "link.db"
    link.symlink_to(tmp_path / "a.db")
    os.rename(tmp_path / "a.db", tmp_path / "b.db")
    out = _wattwise("run", "--db", str(link), "--", sys.executable, "-c", "0")
    assert out.returncode == 2, out
    assert f"held by process {holder.pid} (" in out.stderr and "disk I/O" not in out.stderr
    _end(holder)
    with closing(sqlite3.connect(tmp_path / "b.db")) as conn:
        assert conn.execute("SELECT count(*) FROM t").fetchone() == (20,)


def test_a_holder_whose_descriptors_cannot_be_read_is_judged_by_its_locks(
    tmp_path: Path, holder: subprocess.Popen[str], three_runs: Path,
    monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another user's process: its /proc/PID/fd cannot be read. It was dropped as a
    holder, so an open through a path with no file let SQLite empty its log (a finished
    run lost), and one of a database moved in at the path read the holder's log as its
    own (the file damaged, its runs gone). Its lock on the -shm says it still has it,
    and it holds none on the file now at the path."""
    real = foreign_log._has_open
    monkeypatch.setattr(foreign_log, "_has_open",
                        lambda pid, file: None if pid == holder.pid else real(pid, file))
    assert foreign_log_holders(tmp_path / "a.db") == []  # a reader of the file itself
    os.rename(tmp_path / "a.db", tmp_path / "b.db")
    assert foreign_log_holders(tmp_path / "a.db") == [holder.pid]  # no file at the path
    os.replace(three_runs, tmp_path / "a.db")  # another database moved in at the path
    assert foreign_log_holders(tmp_path / "a.db") == [holder.pid]
    out = _wattwise("runs", "--db", str(tmp_path / "a.db"))
    assert out.returncode == 2 and f"held by process {holder.pid}" in out.stderr, out
