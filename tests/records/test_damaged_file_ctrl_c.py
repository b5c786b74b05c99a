"""A Ctrl-C while a file is checked whole at open (``damaged_file.check_whole``: SQLite's
``PRAGMA quick_check``, seconds on a large file not in the page cache) ends the check
as it comes, and KeyboardInterrupt is raised as before: Python runs a signal's handler
only between its own steps, so a Ctrl-C at ``wattwise dashboard``'s start once waited
22 s for the check to end. The check here is a slow query in the pragma's place."""

from __future__ import annotations

import os
import signal
import sqlite3
import threading
from pathlib import Path
from typing import Any

import pytest

from wattwise.records import damaged_file
from wattwise.records.store import Store

#: Seconds of SQLite's work (tens on this machine), ended early only by an interrupt.
SLOW = ("WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 2e8)"
        " SELECT 'ok' FROM c WHERE x = 2e8")


class _SlowCheck(sqlite3.Connection):
    """A connection whose whole-file check is the slow query; it says how it ended."""

    ended: str = ""

    def execute(self, sql: str, *args: Any) -> Any:  # type: ignore[override]
        if "quick_check" not in sql:
            return super().execute(sql, *args)
        try:
            got = super().execute(SLOW)
        except sqlite3.OperationalError as exc:
            self.ended = str(exc)
            raise
        self.ended = "ran to its end"
        return got


def test_a_ctrl_c_ends_the_whole_file_check_at_once(tmp_path: Path) -> None:
    db = tmp_path / "runs.db"
    Store(db).close()
    conn = sqlite3.connect(db, factory=_SlowCheck)
    timer = threading.Timer(0.3, os.kill, (os.getpid(), signal.SIGINT))
    timer.start()
    try:
        with pytest.raises(KeyboardInterrupt):
            damaged_file.check_whole(db, conn)
    finally:
        timer.cancel()
        conn.close()
    assert conn.ended == "interrupted"
    # Python's own handler is back, and the file is not taken as checked
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    assert signal.set_wakeup_fd(-1) == -1
    assert not [t for t in threading.enumerate() if t.name == "wattwise-check-watch"]


def test_the_check_without_a_ctrl_c_gives_its_answer(tmp_path: Path) -> None:
    db = tmp_path / "runs.db"
    Store(db).close()
    conn = sqlite3.connect(db)
    try:
        key = damaged_file.check_whole(db, conn)
    finally:
        conn.close()
    assert key == (os.stat(db).st_dev, os.stat(db).st_ino)
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    assert signal.set_wakeup_fd(-1) == -1


def test_the_check_watches_for_a_ctrl_c_whatever_its_descriptors_number(
        tmp_path: Path) -> None:
    """A long test run (or server) holds more than 1024 descriptors: the watch's own
    socket lies above what ``select()`` takes, which failed the watch in a thread."""
    import resource

    db = tmp_path / "runs.db"
    Store(db).close()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < 1200:
        pytest.skip(f"this process may open only {hard} files")
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, 1200), hard))
    held = [os.open(os.devnull, os.O_RDONLY) for _ in range(1100)]
    failed: list[Any] = []
    before = threading.excepthook
    threading.excepthook = failed.append
    try:
        conn = sqlite3.connect(db)
        try:
            damaged_file.check_whole(db, conn)
        finally:
            conn.close()
    finally:
        threading.excepthook = before
        for fd in held:
            os.close(fd)
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    assert not failed, [f.exc_value for f in failed]


def test_reads_stopped_say_why_also_the_one_they_interrupted(tmp_path: Path) -> None:
    """A read-only store's reads ended (``stop_reads``: the dashboard stops, or its file
    was replaced) say why, the query running then included (not SQLite's "interrupted"),
    and every later read is refused with the same words."""
    from wattwise.errors import StoreError

    db = tmp_path / "runs.db"
    Store(db).close()
    got: list[str] = []
    with Store(db, readonly=True) as store:

        def slow() -> None:
            try:
                store._read(SLOW)
            except StoreError as exc:
                got.append(str(exc))

        reading = threading.Thread(target=slow)
        reading.start()
        threading.Event().wait(0.5)  # the query is running
        store.stop_reads("the file was replaced (try again)")
        reading.join(timeout=60)
        with pytest.raises(StoreError, match=r"not read: the file was replaced \(try again\)"):
            store._read("SELECT 1")
    assert got == [f"run database {db}: not read: the file was replaced (try again)"], got
