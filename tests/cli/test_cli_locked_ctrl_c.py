"""A Ctrl-C of a command whose read waits for another program's write lock (a
rollback-journal file) is heard at once: the read waited inside SQLite, where Python
runs no signal handler, so ``wattwise show`` under a lock exited 30 s after the Ctrl-C
(its whole wait). Here the read would wait 300 s."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests._cli_out import recorded

pytestmark = pytest.mark.usefixtures("no_ambient_zone")

_SHOW = """
import sys
from wattwise.records.store import Store

Store.__init__.__kwdefaults__["timeout_s"] = 300.0  # reads wait 300 s for a lock
from wattwise.cli import main

sys.argv = ["wattwise", *sys.argv[2:], "--db", sys.argv[1]]
main()
"""


def _wait_until_it_opens(pid: int, db: Path) -> None:
    """Until process ``pid`` has ``db`` open (its read began), 60 s at most."""
    fds = Path(f"/proc/{pid}/fd")
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if any(os.path.realpath(f) == str(db.resolve()) for f in fds.iterdir()):
                return
        except OSError:  # a descriptor closed as it was looked at
            pass
        time.sleep(0.05)
    raise AssertionError(f"process {pid} did not open {db}")


@pytest.mark.parametrize("command", [["show", "1"], ["runs"]])
def test_a_ctrl_c_ends_a_read_waiting_for_another_programs_lock(
        tmp_path: Path, command: list[str]) -> None:
    written, db = tmp_path / "written.db", tmp_path / "runs.db"
    recorded(written)
    with sqlite3.connect(written) as src, sqlite3.connect(db) as copy:
        src.backup(copy)
        assert copy.execute("PRAGMA journal_mode=DELETE").fetchone()[0] == "delete"
    src.close(), copy.close()
    holder = sqlite3.connect(db, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")  # another program's write lock
    root = Path(__file__).resolve().parents[2]
    proc = subprocess.Popen([sys.executable, "-c", _SHOW, str(db), *command],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            cwd=root)
    try:
        _wait_until_it_opens(proc.pid, db)
        time.sleep(0.5)  # waiting for the lock
        assert proc.poll() is None, proc.communicate()
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=120)  # not 300 s
        assert holder.in_transaction  # the lock was still held when it exited
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
        holder.execute("ROLLBACK")
        holder.close()
    assert proc.returncode == 130, (proc.returncode, out, err[-3000:])
    assert "Traceback" not in err, err[-3000:]
