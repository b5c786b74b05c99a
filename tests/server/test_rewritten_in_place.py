"""A dashboard whose database is rewritten in place while it serves (``cp backup.db
runs.db``: the same inode, other content): before, it served the old file's runs from
SQLite's cached pages for minutes (``/metrics`` mixing the two files), then called the
sound file damaged and told the user to recover it. A checkpoint, which writes the file
too, opens nothing afresh."""

from __future__ import annotations

import contextlib
import os
import shutil
import sqlite3
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.cli._hostile import add_run
from tests.server.test_replaced_db import _make, _names
from wattwise.server import create_app, runs_file

BASE = "http://127.0.0.1:8787"


def _counting(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """The paths the dashboard opens a store of, from now on."""
    opened: list[Path] = []
    real = runs_file.Store

    def counted(path: Path, **kw: object) -> object:
        opened.append(path)
        return real(path, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(runs_file, "Store", counted)
    return opened


def test_a_backup_copied_over_the_file_is_what_the_dashboard_shows(tmp_path: Path) -> None:
    live = _make(tmp_path / "runs.db", "only-one")
    backup = _make(tmp_path / "backup.db", "b1", "b2", "b3")
    inode = os.stat(live).st_ino
    with TestClient(create_app(live, port=8787), base_url=BASE) as c:
        assert _names(c) == ["only-one"]
        assert c.get("/api/runs/3").status_code == 404
        shutil.copyfile(backup, live)  # in place: the same inode
        assert os.stat(live).st_ino == inode
        for _ in range(3):
            assert _names(c) == ["b1", "b2", "b3"]
            r = c.get("/api/runs/3")
            assert r.status_code == 200 and r.json()["run"]["name"] == "b3", r.text
            assert 'wattwise_runs{status="finished"} 3.0' in c.get("/metrics").text
            time.sleep(0.2)


def test_a_checkpoint_opens_nothing_afresh(tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    live = _make(tmp_path / "runs.db", "r0")
    opened = _counting(monkeypatch)
    with TestClient(create_app(live, port=8787), base_url=BASE) as c:
        assert _names(c) == ["r0"]
        written = 0
        for i in range(1, 6):
            add_run(live, f"r{i}")
            before = os.stat(live).st_mtime_ns
            time.sleep(0.01)
            with sqlite3.connect(live) as other:  # another process's checkpoint
                other.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
            written += os.stat(live).st_mtime_ns != before
            assert _names(c) == [f"r{k}" for k in range(i + 1)]
        assert written >= 1  # the checkpoints did write the file
        assert len(opened) == 1, opened


def test_a_chmod_of_the_file_opens_nothing_afresh(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A reopen refuses the requests in flight ("try again"): a third of 318 requests were
    refused while the file was chmod-ed to its own mode 15 times."""
    live = _make(tmp_path / "runs.db", "r0")
    opened = _counting(monkeypatch)
    with TestClient(create_app(live, port=8787), base_url=BASE) as c:
        assert _names(c) == ["r0"]
        for k in range(5):
            os.chmod(live, 0o644 if k % 2 else 0o600)
            assert _names(c) == ["r0"]
        assert len(opened) == 1, opened


def test_a_shm_removed_under_the_dashboard_is_another_wal_index(
        tmp_path: Path) -> None:
    """Its connections read through the removed ``-shm``: a writer's new one holds its
    commits, never seen; and a backup copied over the file then went unnoticed (no
    ``-shm`` to tell a checkpoint by), until the dashboard called the sound file damaged.
    (A ``-wal`` left beside the file is read with the backup, by every reader.)"""
    live = _make(tmp_path / "runs.db", "r0")
    backup = _make(tmp_path / "backup.db", "b1", "b2")
    with TestClient(create_app(live, port=8787), base_url=BASE) as c:
        assert _names(c) == ["r0"]
        os.unlink(f"{live}-shm")
        add_run(live, "r1")  # a writer makes a -shm of its own
        assert _names(c) == ["r0", "r1"]
        for side in ("-wal", "-shm"):  # a restore as docs/records.md says: its log too
            os.unlink(f"{live}{side}")
        shutil.copyfile(backup, live)
        for _ in range(3):
            assert _names(c) == ["b1", "b2"]
            r = c.get("/api/runs/2")
            assert r.status_code == 200 and r.json()["run"]["name"] == "b2", r.text


def test_a_verdict_read_through_the_old_file_s_cache_is_forgotten(tmp_path: Path) -> None:
    """Requests in flight when a backup is copied in read its new pages through the old
    file's cache and meet "malformed": the file was marked damaged and every later reader
    refused for good (telling the user to recover a sound file), until it moved again."""
    import sqlite3

    from wattwise.records.damaged_file import read_error

    live = _make(tmp_path / "runs.db", "only-one")
    backup = _make(tmp_path / "backup.db", "b1", "b2")
    with TestClient(create_app(live, port=8787), base_url=BASE) as c:
        assert _names(c) == ["only-one"]
        for side in ("-wal", "-shm"):
            os.unlink(f"{live}{side}")
        shutil.copyfile(backup, live)
        # what a request in flight met, reading the new pages through the old cache
        said = read_error(live, sqlite3.DatabaseError("database disk image is malformed"))
        assert "damaged" in str(said)
        assert _names(c) == ["b1", "b2"]
        assert c.get("/metrics").status_code == 200


def test_a_read_of_a_file_let_go_of_is_said_not_judged(tmp_path: Path) -> None:
    import sqlite3

    from wattwise.records.damaged_file import damage_found, read_error

    live = _make(tmp_path / "runs.db", "r0")
    malformed = sqlite3.DatabaseError("database disk image is malformed")
    said = read_error(live, malformed, stopped="the file was replaced (try again)")
    assert str(said).endswith("not read: the file was replaced (try again)")
    st = os.stat(live)
    assert damage_found(live, (st.st_dev, st.st_ino)) is False  # nothing marked


def test_a_fifo_put_at_the_shm_is_left_where_it_was(tmp_path: Path) -> None:
    """The ``-shm`` replaced by a FIFO: the file is let go of, as for any ``-shm``
    replaced, but its last connection's close would remove the ``-shm`` by name (the
    FIFO), where the answer says it is left untouched. It stays, each request says it,
    and once it is gone the file is read again."""
    import stat

    live = _make(tmp_path / "runs.db", "r0")
    shm = f"{live}-shm"
    with TestClient(create_app(live, port=8787), base_url=BASE) as c:
        assert _names(c) == ["r0"]
        os.unlink(shm)
        os.mkfifo(shm)
        for _ in range(3):
            r = c.get("/api/runs")
            assert r.status_code == 503, r.text
            assert "its -shm is not a regular file" in r.text and "left untouched" in r.text
            assert stat.S_ISFIFO(os.stat(shm).st_mode)
        os.unlink(shm)
        assert _names(c) == ["r0"]
        os.unlink(shm)  # the dashboard's own, a regular file: it may close as usual
        os.mkfifo(shm)
        assert c.get("/api/runs").status_code == 503
    assert stat.S_ISFIFO(os.stat(shm).st_mode)  # nor removed as the dashboard stops


_SERVE = """
import sys
from wattwise.cli import main

sys.argv = ["wattwise", "dashboard", "--db", sys.argv[1], "--port", "0"]
main()
"""


@pytest.mark.parametrize("side", ["-shm", "-wal"])
def test_a_fifo_at_a_side_file_outlives_a_ctrl_c(tmp_path: Path, side: str) -> None:
    """Its handles were left unclosed at the stop, and Python closed them as it ended:
    SQLite's last close removed the FIFO (and the -wal) by name."""
    import re
    import signal
    import stat
    import subprocess
    import sys
    import urllib.error
    import urllib.request

    live = _make(tmp_path / "runs.db", "r0")
    root = Path(__file__).resolve().parents[2]
    proc = subprocess.Popen([sys.executable, "-c", _SERVE, str(live)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, cwd=root)
    try:
        assert proc.stdout is not None
        url = re.search(r"(http://127\.0\.0\.1:\d+)/", proc.stdout.readline())
        assert url, "the dashboard did not say where it listens"
        with urllib.request.urlopen(f"{url.group(1)}/api/runs", timeout=60) as r:
            assert r.status == 200
        assert os.path.exists(f"{live}-shm")
        with contextlib.suppress(FileNotFoundError):
            os.unlink(f"{live}{side}")
        os.mkfifo(f"{live}{side}")
        with pytest.raises(urllib.error.HTTPError) as answer:
            urllib.request.urlopen(f"{url.group(1)}/api/runs", timeout=60)
        assert answer.value.code == 503
        answer.value.close()
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 130, (proc.returncode, err[-2000:])
    assert stat.S_ISFIFO(os.stat(f"{live}{side}").st_mode), sorted(os.listdir(tmp_path))


def test_a_fifo_at_the_shm_is_named_to_every_request_in_flight(tmp_path: Path) -> None:
    """With other requests in flight, the answer was "replaced or removed ... other
    requests are finishing with the old file (try again)": nothing was, and trying again
    mends nothing; the FIFO is what to remove."""
    import threading

    live = _make(tmp_path / "runs.db", "r0")
    with TestClient(create_app(live, port=8787), base_url=BASE) as c:
        assert _names(c) == ["r0"]
        os.unlink(f"{live}-shm")
        os.mkfifo(f"{live}-shm")
        said: list[str] = []
        lock = threading.Lock()

        def ask() -> None:
            for _ in range(15):
                for url in ("/api/runs", "/metrics", "/api/runs/1"):
                    r = c.get(url)
                    with lock:
                        said.append(f"{r.status_code} {r.text}")

        threads = [threading.Thread(target=ask) for _ in range(3)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        wrong = [s for s in said if "its -shm is not a regular file" not in s]
        assert not wrong, (len(wrong), len(said), wrong[:2])
        os.unlink(f"{live}-shm")
        assert _names(c) == ["r0"]


def _copied_as_read(monkeypatch: pytest.MonkeyPatch, backup: Path, live: Path,
                    then: object = None) -> None:
    """Each read of a run finds none, as one of a file half copied over found none, and
    the copy goes on under it: ``backup`` is copied over ``live`` (in place), or ``then``
    is called, as the read ends."""
    from wattwise.errors import NoSuchRun
    from wattwise.records.queries import RunQueries

    def missing(self: object, ref: object) -> object:
        if then is None:
            shutil.copyfile(backup, live)
        else:
            then()  # type: ignore[operator]
        raise NoSuchRun(f"no run '{ref}' in {live}")

    monkeypatch.setattr(RunQueries, "get_run", missing)


def test_a_run_missing_from_a_file_copied_over_as_it_was_read_is_try_again(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """It was a 404 for a run the file holds (4 of 100 restores under requests)."""
    live = _make(tmp_path / "runs.db", "only-one")
    backup = _make(tmp_path / "backup.db", "b1", "b2")
    with TestClient(create_app(live, port=8787), base_url=BASE) as c:
        assert _names(c) == ["only-one"]
        with monkeypatch.context() as m:
            _copied_as_read(m, backup, live)
            r = c.get("/api/runs/2")
        assert r.status_code == 503, r.text
        assert r.json()["error"].endswith("rewritten in place while it was read (try again)")
        r = c.get("/api/runs/2")  # the next request reads the file as it is now
        assert r.status_code == 200 and r.json()["run"]["name"] == "b2", r.text


def test_a_run_missing_from_a_file_that_did_not_move_is_404(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    live = _make(tmp_path / "runs.db", "r0")
    with TestClient(create_app(live, port=8787), base_url=BASE) as c:
        assert _names(c) == ["r0"]
        r = c.get("/api/runs/7")
        assert r.status_code == 404 and r.json()["error"] == f"no run '7' in {live}", r.text

        def checkpoint() -> None:  # another process's commit and checkpoint meanwhile
            add_run(live, "r1")
            time.sleep(0.01)
            with sqlite3.connect(live) as other:
                other.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()

        with monkeypatch.context() as m:
            _copied_as_read(m, live, live, then=checkpoint)
            r = c.get("/api/runs/7")
        assert r.status_code == 404, r.text
