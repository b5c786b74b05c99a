"""One way to the database per process: shared handles, nothing but SQLite opens the file,
and the scenario that once lost committed rows (a second handle dropping the process's locks).
"""

from __future__ import annotations

import multiprocessing as mp
import os
import sqlite3
import sys
from pathlib import Path
from typing import Any

import pytest

import wattwise
from tests.fixtures.fake_sensors import ConstantPowerSensor
from wattwise.records import database
from wattwise.records.store import SampleRow, Store

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX locks and spawn")


def _new_run(store: Store, name: str = "r") -> int:
    return store.create_run(name=name, started_unix_s=1000.0, host={}, hardware={},
                            sensors=[], versions={}, pid=os.getpid())


def test_stores_and_runs_of_one_process_share_one_database(tmp_path: Path) -> None:
    db = tmp_path / "runs.db"
    a, b = Store(db), Store(str(tmp_path / "." / "runs.db"))
    try:
        assert a.database is b.database
        assert [d.path for d in database.open_databases()].count(a.path) == 1
        with wattwise.track("t", db=db, sensors=[ConstantPowerSensor({"cpu:0": 1.0})],
                            interval_s=0.01) as run:
            assert run.record._db is a.database
    finally:
        a.close()
        b.close()
    assert not [d for d in database.open_databases() if d.path == db], "last close closes it"


# -- nothing but SQLite opens the file ------------------------------------------------

_WATCHED: list[str] = []
_OPENED: list[str] = []


def _audit(event: str, args: tuple[Any, ...]) -> None:
    if event == "open" and _WATCHED and args and isinstance(args[0], (str, bytes, os.PathLike)):
        path = os.fsdecode(args[0])
        if any(path.startswith(w) for w in _WATCHED):
            _OPENED.append(path)


sys.addaudithook(_audit)  # audit hooks cannot be removed: this one only looks when asked


def test_no_code_path_opens_the_database_file_behind_sqlites_back(tmp_path: Path) -> None:
    """Closing any descriptor of the file drops the process's SQLite locks, so no
    wattwise code may open it: this fails on the pattern, whichever code adds it."""
    from fastapi.testclient import TestClient
    from typer.testing import CliRunner

    from wattwise.cli import _register_all, app
    from wattwise.server.app import create_app

    if not app.registered_commands:
        _register_all()

    db = tmp_path / "runs.db"
    _WATCHED[:] = [str(db)]
    _OPENED.clear()
    try:
        s1, s2 = Store(db), Store(db)
        rid = _new_run(s1)
        s2.add_samples(rid, [SampleRow(1001.0, "cpu:0", 1.0, 1.0, 1.0, 1.0)])
        s1.finish_run(rid, ended_unix_s=1002.0, status="finished")
        sensor = ConstantPowerSensor({"cpu:0": 2.0})
        with wattwise.track("a", db=db, sensors=[sensor], interval_s=0.01) as run:
            with run.window("w"):
                pass

        @wattwise.track(db=db, sensors=[sensor])
        def twice() -> None:
            pass

        twice()
        twice()
        s1.close()
        s2.close()
        runner = CliRunner()
        for args in (["runs"], ["show", "latest"], ["show", "1", "--json"],
                     ["export", "1", "--format", "csv"], ["report", "latest"]):
            res = runner.invoke(app, [*args, "--db", str(db)])
            assert res.exit_code == 0, (args, res.output)
        client = TestClient(create_app(db), base_url="http://127.0.0.1")
        assert client.get("/api/runs").status_code == 200
        assert client.get("/metrics").status_code == 200
        client.close()
    finally:
        _WATCHED.clear()
    assert _OPENED == [], f"opened outside SQLite: {_OPENED}"


# -- the scenario that lost rows ------------------------------------------------------------


def _proc_a(db: str, step: Any, go: Any) -> None:
    """Two stores in one process (as two tracked runs or threads make), writes around
    another process's open and close."""
    s1 = Store(db)
    s2 = Store(db)  # the second handle: once it dropped the process's locks
    rid = _new_run(s1, "A")
    s1.add_event(rid, 1001.0, "info", "event 0")
    step.put("A wrote 1")
    go.get(timeout=60)  # B has opened, written, closed; C holds a connection
    for i in range(1, 21):
        s2.add_event(rid, 1001.0 + i, "info", f"event {i}")
    s1.finish_run(rid, ended_unix_s=1100.0, status="finished")
    s1.close()
    s2.close()
    step.put("A done")


def _proc_b(db: str) -> None:
    with Store(db) as s:
        rid = _new_run(s, "B")
        s.add_event(rid, 1.0, "info", "b")


def _proc_c(db: str, step: Any, go: Any) -> None:
    conn = sqlite3.connect(db)
    conn.execute("SELECT count(*) FROM runs").fetchone()
    step.put("C holds")
    go.get(timeout=60)
    conn.close()


def test_every_committed_row_survives_other_processes_opening_and_closing(tmp_path: Path) -> None:
    db = str(tmp_path / "runs.db")
    ctx = mp.get_context("spawn")
    step_a, go_a, step_c, go_c = ctx.Queue(), ctx.Queue(), ctx.Queue(), ctx.Queue()
    a = ctx.Process(target=_proc_a, args=(db, step_a, go_a))
    a.start()
    assert step_a.get(timeout=60) == "A wrote 1"
    b = ctx.Process(target=_proc_b, args=(db,))
    b.start()
    b.join(60)
    assert b.exitcode == 0
    c = ctx.Process(target=_proc_c, args=(db, step_c, go_c))
    c.start()
    assert step_c.get(timeout=60) == "C holds"
    go_a.put("go")
    assert step_a.get(timeout=60) == "A done"
    a.join(60)
    go_c.put("go")
    c.join(60)
    assert a.exitcode == 0 and c.exitcode == 0

    conn = sqlite3.connect(db)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        (rid, status), = conn.execute("SELECT id, status FROM runs WHERE name = 'A'").fetchall()
        assert status == "finished"
        messages = [r[0] for r in conn.execute(
            "SELECT message FROM events WHERE run_id = ? ORDER BY id", (rid,))]
        assert messages == [f"event {i}" for i in range(21)]
    finally:
        conn.close()


def test_forked_child_writes_through_its_own_database(tmp_path: Path) -> None:
    db = tmp_path / "runs.db"
    with Store(db) as parent:
        rid = _new_run(parent)
        ctx = mp.get_context("fork")
        child = ctx.Process(target=_child_writes, args=(str(db), rid))
        child.start()
        child.join(60)
        assert child.exitcode == 0
        parent.add_event(rid, 2.0, "info", "parent after fork")
        assert [e["message"] for e in parent.events(rid)] == ["child", "parent after fork"]


def _child_writes(db: str, rid: int) -> None:
    with Store(db) as s:
        assert all(d._key[0] == os.getpid() for d in database.open_databases())
        s.add_event(rid, 1.0, "info", "child")


# -- read-only -----------------------------------------------------------------------


def test_read_only_store_never_creates_or_changes_a_file(tmp_path: Path) -> None:
    import hashlib

    from wattwise.errors import StoreError

    missing = tmp_path / "sub" / "runs.db"
    with pytest.raises(StoreError, match=f"no run database at {missing}"):
        Store(missing, readonly=True)
    assert not (tmp_path / "sub").exists(), "not even its folder"

    db = tmp_path / "runs.db"
    with Store(db) as s:
        rid = _new_run(s)
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA journal_mode = DELETE")  # as a copied or archived file may be
    conn.close()
    before = hashlib.sha256(db.read_bytes()).hexdigest()
    with Store(db, readonly=True) as ro:
        assert ro.get_run(rid).name == "r"
        assert [r.id for r in ro.list_runs()] == [rid]
        with pytest.raises(StoreError, match="read-only"):
            ro.add_event(rid, 1.0, "info", "x")
    assert hashlib.sha256(db.read_bytes()).hexdigest() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["runs.db"], "no WAL switch"


def test_read_only_store_sees_this_processes_queued_writes(tmp_path: Path) -> None:
    db = tmp_path / "runs.db"
    sensor = ConstantPowerSensor({"cpu:0": 2.0})
    with wattwise.track("queued", db=db, sensors=[sensor], interval_s=0.01) as run:
        pass
    with Store(db, readonly=True) as ro:
        assert ro.get_run(run.run_id).status == "finished"


def test_read_only_store_refuses_what_is_not_a_run_database(tmp_path: Path) -> None:
    from wattwise.errors import StoreError

    text = tmp_path / "notes.txt"
    text.write_text("hello\n" * 100)
    with pytest.raises(StoreError, match="not a SQLite database"):
        Store(text, readonly=True)
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    with pytest.raises(StoreError, match="not a regular file"):
        Store(fifo, readonly=True)
    with pytest.raises(StoreError, match="not a regular file"):
        Store(fifo)


def test_reads_from_many_short_lived_threads_keep_few_connections(tmp_path: Path) -> None:
    import threading

    with Store(tmp_path / "runs.db") as s:
        _new_run(s)
        for _ in range(50):
            t = threading.Thread(target=s.list_runs)
            t.start()
            t.join()
        assert len(s.database.readers) <= 2, "an ended thread's connection is closed"


def test_after_the_program_ends_the_db_file_alone_holds_every_run(tmp_path: Path) -> None:
    import shutil
    import subprocess

    db = tmp_path / "runs.db"
    code = (
        "import sys, wattwise\n"
        "from tests.fixtures.fake_sensors import ConstantPowerSensor\n"
        "with wattwise.track('copied', db=sys.argv[1], interval_s=0.01,\n"
        "                    sensors=[ConstantPowerSensor({'cpu:0': 1.0})]):\n"
        "    pass\n"
    )
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    done = subprocess.run([sys.executable, "-c", code, str(db)], env=env, check=True,
                          timeout=120, capture_output=True, text=True)
    assert not Path(f"{db}-wal").exists(), (  # what the program said, if it gave up
        f"the WAL was folded into the file at exit; the program said: {done.stderr!r}")
    copy = tmp_path / "copy.db"
    shutil.copy(db, copy)
    conn = sqlite3.connect(copy)
    try:
        assert conn.execute("SELECT name, status FROM runs").fetchall() == [
            ("copied", "finished")]
    finally:
        conn.close()


def test_a_damaged_row_never_breaks_a_listing_or_a_view(tmp_path: Path) -> None:
    db = tmp_path / "runs.db"
    with Store(db) as s:
        good = _new_run(s, "good")
        s.finish_run(good, ended_unix_s=1002.0, status="finished", summary={"energy_j": 1.0})
        bad = _new_run(s, "bad")
        s.add_window(bad, {"name": "w", "start_unix_s": 1.0, "end_unix_s": 2.0,
                           "energy_j": 1.0, "kind": "measured"})
    conn = sqlite3.connect(db)
    deep = "[" * 5000 + "]" * 5000
    conn.execute("UPDATE runs SET summary_json = '{', hardware_json = '\"text\"',"
                 " sensors_json = ?, tags_json = '7', started_unix_s = 'soon', pid = 'x'"
                 " WHERE id = ?", (deep, bad))
    conn.execute("UPDATE windows SET domains_json = 'not json', gaps_json = '{}'")
    conn.commit()
    conn.close()
    with Store(db, readonly=True) as s:
        runs = {r.name: r for r in s.list_runs()}
        assert runs["good"].summary == {"energy_j": 1.0}
        rec = s.get_run(bad)
        assert rec.summary is None and rec.hardware == {} and rec.sensors == []
        assert rec.tags == {} and rec.started_unix_s == 0.0 and rec.pid is None
        (w,) = s.windows(bad)
        assert w["domains"] == [] and w["gaps"] == []
