"""A FIFO put at a run database's ``-shm`` or ``-wal`` while ``wattwise run`` records
into it is left where it is: SQLite's last connection removes both names as it closes,
whatever sits there, and the run's end removed the FIFO (every wattwise reader refuses
one, and says it leaves it untouched). The run is recorded whole all the same: a
``-wal`` put in place of the one it writes holds none of its commits, which are folded
into the file first."""

from __future__ import annotations

import os
import sqlite3
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest


@pytest.mark.parametrize("side", ["-shm", "-wal"])
def test_a_fifo_at_a_side_file_outlives_the_run_that_records(tmp_path: Path,
                                                             side: str) -> None:
    db = tmp_path / "runs.db"
    env = {**os.environ, "HOME": str(tmp_path), "WATTWISE_ZONE": "DE"}
    proc = subprocess.Popen([sys.executable, "-m", "wattwise", "run", "--db", str(db),
                             "--name", "rec", "-i", "0.1", "--", sys.executable, "-c",
                             "import time; time.sleep(3)"],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 30
        while not os.path.exists(f"{db}-shm") and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.5)  # samples written meanwhile
        os.unlink(f"{db}{side}")
        os.mkfifo(f"{db}{side}")
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, err[-2000:]
    assert stat.S_ISFIFO(os.stat(f"{db}{side}").st_mode), sorted(os.listdir(tmp_path))
    os.unlink(f"{db}{side}")
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        status, summary = conn.execute("SELECT status, summary_json FROM runs").fetchone()
        samples = conn.execute("SELECT count(*) FROM samples").fetchone()[0]
    finally:
        conn.close()
    assert status == "finished" and summary, (status, summary)
    assert samples >= 20, samples  # 3 s at 0.1 s, two domains: its samples all written
