"""Another program's write lock on a rollback-journal database holds up the requests that
read it, not the server: ``enter``/``leave`` run on the event loop, and one that waited
for the lock a read held stalled a static file and a 404 for as long as the lock was
held (45 s)."""

from __future__ import annotations

import sqlite3
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

import wattwise
from tests.fixtures.fake_sensors import ConstantPowerSensor
from tests.server._serve import serve_app
from wattwise.server import create_app

pytestmark = pytest.mark.usefixtures("no_ambient_zone")


def _get(url: str, timeout: float) -> int:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            return int(r.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)


def test_a_locked_file_holds_up_its_reads_not_the_server(tmp_path: Path) -> None:
    written = tmp_path / "written.db"
    with wattwise.track("r", db=written, interval_s=0.05, sensors=[
            ConstantPowerSensor({"cpu:0": 10.0}, kind="estimated")]) as run:
        time.sleep(0.1)
    assert run.flush()
    db = tmp_path / "runs.db"  # a copy no handle of this process holds, in rollback mode
    with sqlite3.connect(written) as src, sqlite3.connect(db) as copy:
        src.backup(copy)
        assert copy.execute("PRAGMA journal_mode=DELETE").fetchone()[0] == "delete"
    src.close(), copy.close()
    app = create_app(db)
    runs_file = app.on_exit.__self__  # the server's RunsFile (its halt)
    served = serve_app(app)
    base = next(served)
    done, released, taken = threading.Event(), threading.Event(), threading.Event()

    def hold() -> None:  # another program's write lock, held until the checks are done
        conn = sqlite3.connect(db, timeout=10, isolation_level=None)
        conn.execute("BEGIN EXCLUSIVE")
        taken.set()
        done.wait(30)
        released.set()
        conn.execute("COMMIT")
        conn.close()

    try:
        assert _get(f"{base}/api/runs?limit=1", 10) == 200  # opened before the lock
        holder = threading.Thread(target=hold)
        holder.start()
        assert taken.wait(10)
        reader = threading.Thread(target=_get, args=(f"{base}/api/runs?limit=1", 60))
        reader.start()  # waits in SQLite for the lock, holding the file's own
        deadline = time.monotonic() + 10
        while not runs_file._lock.locked():
            assert time.monotonic() < deadline, "the read did not wait on the file"
            time.sleep(0.01)
        for path, status in (("/favicon.svg", 200), ("/nonexistent", 404), ("/", 200)):
            assert _get(base + path, 20) == status
            assert not released.is_set(), f"{path} answered only once the lock was let go"
    finally:
        done.set()
        if "holder" in locals():
            holder.join(30)
        if "reader" in locals():
            reader.join(60)
        next(served, None)
