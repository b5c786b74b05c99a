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
from wattwise.errors import StoreError
from wattwise.server import create_app
from wattwise.server.runs_file import RunsFile

pytestmark = pytest.mark.usefixtures("no_ambient_zone")


def _get(url: str, timeout: float) -> int:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            return int(r.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)


def _rollback_copy(tmp_path: Path) -> Path:
    """A database of one run, in rollback mode, that no handle of this process holds."""
    written = tmp_path / "written.db"
    with wattwise.track("r", db=written, interval_s=0.05, sensors=[
            ConstantPowerSensor({"cpu:0": 10.0}, kind="estimated")]) as run:
        time.sleep(0.1)
    assert run.flush()
    db = tmp_path / "runs.db"
    with sqlite3.connect(written) as src, sqlite3.connect(db) as copy:
        src.backup(copy)
        assert copy.execute("PRAGMA journal_mode=DELETE").fetchone()[0] == "delete"
    src.close(), copy.close()
    return db


def test_a_locked_file_holds_up_its_reads_not_the_server(tmp_path: Path) -> None:
    """More reads waiting than the server's thread pool holds (40): the page, its files
    and a scrape are answered still (the page took 28 s, a scrape 35 s, behind 45)."""
    db = _rollback_copy(tmp_path)
    app = create_app(db, metrics_wait_s=1.0)
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
        readers = [threading.Thread(target=_get, args=(f"{base}/api/runs/1", 60))
                   for _ in range(45)]
        for reader in readers:
            reader.start()  # each waits in SQLite for the lock, in a thread of the pool
        time.sleep(1.0)
        assert all(r.is_alive() for r in readers), "the reads did not wait on the file"
        for path, status in (("/favicon.svg", 200), ("/nonexistent", 404), ("/", 200),
                             ("/static/vendor/uplot/uPlot.min.css", 200), ("/metrics", 200)):
            assert _get(base + path, 20) == status, path
            assert not released.is_set(), f"{path} answered only once the lock was let go"
    finally:
        done.set()
        if "holder" in locals():
            holder.join(30)
        for reader in locals().get("readers", []):
            reader.join(60)
        next(served, None)


def test_reads_of_a_locked_file_each_wait_their_own_time(tmp_path: Path) -> None:
    """Each read gives up after its own busy timeout: the reads waiting meanwhile were
    queued one behind another (the file's checks were read under the file's lock), so
    they gave up at 1, 2, 3 and 4 timeouts (503s at 30 s, 60 s, ...)."""
    db = _rollback_copy(tmp_path)
    runs_file = RunsFile(db, timeout_s=2.0)
    runs_file.enter()
    assert runs_file.store() is not None  # opened before the lock
    runs_file.leave()
    errors, ended = _reads_under_a_lock(db, runs_file, apart_s=0.0)
    assert len(errors) == 4 and all("locked" in e for e in errors), errors
    assert max(ended) - min(ended) < 2.0  # each its own 2 s, not one after another


def test_a_scrape_of_a_locked_file_answers_within_its_wait(tmp_path: Path) -> None:
    """``/metrics`` under another program's write lock answers within its wait and the
    runs-by-status wait after it, saying it is not complete: it waited for the lock (24 s
    under a 25 s lock, with a wait of 5 s)."""
    db = _rollback_copy(tmp_path)
    served = serve_app(create_app(db, metrics_wait_s=1.0))
    base = next(served)
    holder = None
    try:
        with urllib.request.urlopen(f"{base}/metrics", timeout=30) as r:
            assert 'wattwise_runs{status="finished"} 1.0' in r.read().decode()
        holder = sqlite3.connect(db, timeout=10, isolation_level=None)
        holder.execute("BEGIN EXCLUSIVE")  # held until the scrape answered
        with urllib.request.urlopen(f"{base}/metrics", timeout=60) as r:
            text = r.read().decode()
        assert holder.in_transaction  # answered while the lock was held
        assert "wattwise_scrape_complete 0.0" in text
        assert "wattwise_runs{" not in text  # no family it could not read, none in part
        holder.execute("COMMIT")
        deadline = time.monotonic() + 60  # the collection ends once the lock is let go
        while True:
            with urllib.request.urlopen(f"{base}/metrics", timeout=60) as r:
                text = r.read().decode()
            if "wattwise_scrape_complete 1.0" in text or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        assert "wattwise_scrape_complete 1.0" in text
        assert 'wattwise_runs{status="finished"} 1.0' in text
    finally:
        if holder is not None:
            holder.close()
        next(served, None)


def test_a_scrape_that_waits_longer_than_a_read_does_is_not_complete_not_failed(
        tmp_path: Path) -> None:
    """A scrape's wait past SQLite's busy timeout (``--metrics-wait 60``, reads wait 30 s)
    under another program's write lock: not complete, as one whose wait ended first; the
    read refused was a 503 (a failed scrape: the target down)."""
    from wattwise.server.metrics import StoreCollector

    db = _rollback_copy(tmp_path)
    runs_file = RunsFile(db, timeout_s=0.5)
    collector = StoreCollector(runs_file.store, reads=runs_file.reads, wait_s=10.0,
                               hold=runs_file.held)
    holder = sqlite3.connect(db, timeout=10, isolation_level=None)
    try:
        holder.execute("BEGIN EXCLUSIVE")
        runs_file.enter()  # as the scrape's request is counted
        try:
            families = {f.name: f for f in collector.collect()}
        finally:
            runs_file.leave()
        assert list(families) == ["wattwise_scrape_complete"], list(families)
        assert families["wattwise_scrape_complete"].samples[0].value == 0.0
        holder.execute("COMMIT")
        runs_file.enter()
        try:
            families = {f.name: f for f in collector.collect()}
        finally:
            runs_file.leave()
        assert families["wattwise_scrape_complete"].samples[0].value == 1.0
        assert {s.labels["status"]: s.value for s in families["wattwise_runs"].samples
                }["finished"] == 1.0
    finally:
        holder.close()
        collector.stop(10)
        runs_file.close()


def test_requests_waiting_for_an_open_of_a_locked_file_end_with_it(tmp_path: Path) -> None:
    """The file opened while another program holds its write lock (a locked file moved in,
    or the dashboard's first read): the requests that waited for that open meanwhile end
    with it, refused as it was; each waited its own timeout after the one before it."""
    db = _rollback_copy(tmp_path)
    runs_file = RunsFile(db, timeout_s=2.0)
    errors, ended = _reads_under_a_lock(db, runs_file, apart_s=0.3)
    assert len(errors) == 4 and all("database is locked" in e for e in errors), errors
    assert max(ended) - min(ended) < 2.0  # with the open, not one open after another


def _reads_under_a_lock(db: Path, runs_file: RunsFile, apart_s: float
                        ) -> tuple[list[str], list[float]]:
    """Four requests reading ``runs_file``, begun ``apart_s`` apart while another program
    holds ``db``'s write lock: what each was refused with, and when each ended
    (``time.monotonic``). Then, the lock let go, a request reads the file's one run."""
    holder = sqlite3.connect(db, timeout=10, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    ended: list[float] = []
    errors: list[str] = []

    def read() -> None:
        runs_file.enter()
        try:
            store = runs_file.store()
            assert store is not None
            store.list_runs()
        except StoreError as exc:
            errors.append(str(exc))
        finally:
            ended.append(time.monotonic())
            runs_file.leave()

    readers = [threading.Thread(target=read) for _ in range(4)]
    try:
        for t in readers:
            t.start()
            time.sleep(apart_s)
        for t in readers:
            t.join(60)
    finally:
        holder.execute("COMMIT")
        holder.close()
    runs_file.enter()
    try:  # refused no longer: read again
        assert [r.name for r in runs_file.require().list_runs()] == ["r"]
    finally:
        runs_file.leave()
        runs_file.close()
    return errors, ended


_SERVE_WAITING = """
import sys
from wattwise.server.runs_file import RunsFile

RunsFile.__init__.__defaults__ = (300.0,)  # reads wait 300 s for a lock
from wattwise.cli import main

sys.argv = ["wattwise", "dashboard", "--db", sys.argv[1], "--port", "0"]
main()
"""


def test_a_ctrl_c_ends_the_reads_waiting_for_another_programs_lock(tmp_path: Path) -> None:
    """A read waiting in SQLite for a lock could be neither interrupted nor stopped: a
    Ctrl-C (or SIGTERM) of a dashboard whose reads waited on another program's write lock
    exited only once their waits ran out (27-57 s). They wait in short steps now, and
    end at the stop: here reads that would wait 300 s end at the signal."""
    import json
    import re
    import signal
    import subprocess
    import sys

    db = _rollback_copy(tmp_path)
    root = Path(__file__).resolve().parents[2]
    proc = subprocess.Popen([sys.executable, "-c", _SERVE_WAITING, str(db)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            cwd=root)
    done, taken = threading.Event(), threading.Event()
    got: list[tuple[int, str]] = []

    def hold() -> None:  # another program's write lock, held until the server is gone
        conn = sqlite3.connect(db, timeout=10, isolation_level=None)
        conn.execute("BEGIN EXCLUSIVE")
        taken.set()
        done.wait(300)
        conn.execute("COMMIT")
        conn.close()

    def ask(url: str) -> None:
        try:
            with urllib.request.urlopen(url, timeout=300) as r:
                got.append((int(r.status), ""))
        except urllib.error.HTTPError as exc:
            got.append((int(exc.code), json.loads(exc.read()).get("error", "")))
        except OSError as exc:  # no answer: the server went away
            got.append((0, repr(exc)))

    holder = threading.Thread(target=hold)
    try:
        assert proc.stdout is not None
        url = re.search(r"(http://127\.0\.0\.1:\d+)/", proc.stdout.readline())
        assert url, "the dashboard did not say where it listens"
        base = url.group(1)
        assert _get(f"{base}/api/runs?limit=1", 60) == 200  # opened before the lock
        holder.start()
        assert taken.wait(10)
        readers = [threading.Thread(target=ask, args=(f"{base}{path}",)) for path in (
            "/api/runs/1", "/api/runs/1/timeline", "/api/runs?limit=1")]
        for reader in readers:
            reader.start()
        time.sleep(1.5)
        assert all(r.is_alive() for r in readers), "the reads did not wait on the file"
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=120)  # not 300 s: the waits end at the stop
        assert done.is_set() is False  # the lock was still held when it exited
        for reader in readers:
            reader.join(60)
    finally:
        done.set()
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
        if holder.is_alive():
            holder.join(30)
    assert proc.returncode == 130, (proc.returncode, err[-3000:])
    assert "Traceback" not in err, err[-3000:]
    assert len(got) == 3 and all(status in (503, 0) for status, _ in got), got
    assert any("stopping" in said for _, said in got), got


def test_reads_past_the_servers_threads_wait_their_own_time_from_their_arrival(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """45 reads at once under a lock, the server's pool holding 40: the 5 past it waited
    for a thread first, then their whole wait again (503s at twice the wait). Each read's
    wait now counts from its request's arrival (``read_wait.ARRIVED``)."""
    monkeypatch.setattr(RunsFile.__init__, "__defaults__", (5.0,))  # reads wait 5 s
    db = _rollback_copy(tmp_path)
    served = serve_app(create_app(db))
    base = next(served)
    done, taken = threading.Event(), threading.Event()
    ended: list[tuple[float, int]] = []

    def hold() -> None:  # another program's write lock, held past every read's wait
        conn = sqlite3.connect(db, timeout=10, isolation_level=None)
        conn.execute("BEGIN EXCLUSIVE")
        taken.set()
        done.wait(60)
        conn.execute("COMMIT")
        conn.close()

    def read() -> None:
        status = _get(f"{base}/api/runs/1", 60)
        ended.append((time.monotonic(), status))

    holder = threading.Thread(target=hold)
    try:
        assert _get(f"{base}/api/runs?limit=1", 10) == 200  # opened before the lock
        holder.start()
        assert taken.wait(10)
        began = time.monotonic()
        readers = [threading.Thread(target=read) for _ in range(45)]
        for reader in readers:
            reader.start()
        for reader in readers:
            reader.join(60)
        assert not done.is_set()
    finally:
        done.set()
        if holder.is_alive():
            holder.join(30)
        next(served, None)
    assert [s for _, s in ended] == [503] * 45, ended
    waited = sorted(t - began for t, _ in ended)
    assert waited[-1] < 5.0 * 1.7, waited  # not twice the wait (10 s before)
