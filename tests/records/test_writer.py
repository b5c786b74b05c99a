"""The writer: a locked database never blocks tracking, a full queue leaves a marked gap,
and a write given up on never lands later."""

from __future__ import annotations

import multiprocessing as mp
import sqlite3
import sys
import time
import warnings
from pathlib import Path
from typing import Any

import pytest

import wattwise
from tests.fixtures.fake_sensors import ConstantPowerSensor
from wattwise.errors import StoreError
from wattwise.measure.meter import WattwiseWarning
from wattwise.records import writer as writer_mod
from wattwise.records.store import SampleRow, Store
from wattwise.records.writer import Task, Writer

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="spawned lock holders")


def _hold_lock(db: str, exclusive: bool, held: Any, release: Any) -> None:
    """Another program holding the database's write lock (``exclusive``: readers too)."""
    conn = sqlite3.connect(db, isolation_level=None)
    if exclusive:
        conn.execute("PRAGMA locking_mode = EXCLUSIVE")
    conn.execute("BEGIN EXCLUSIVE")
    conn.execute("INSERT INTO events (run_id, t_unix_s, level, message)"
                 " SELECT id, 0, 'info', 'holder' FROM runs LIMIT 0")
    held.set()
    release.wait(120)
    conn.execute("ROLLBACK")
    conn.close()


@pytest.fixture
def holder(tmp_path: Path) -> Any:
    """Start a lock holder on an existing database; yields (db, release event)."""
    db = tmp_path / "runs.db"
    Store(db).close()  # the schema exists, as it would for a user
    ctx = mp.get_context("spawn")
    procs = []

    def start(exclusive: bool) -> Any:
        held, release = ctx.Event(), ctx.Event()
        proc = ctx.Process(target=_hold_lock, args=(str(db), exclusive, held, release))
        proc.start()
        assert held.wait(60), "the holder never took the lock"
        procs.append((proc, release))
        return release

    yield db, start
    for proc, release in procs:
        release.set()
        proc.join(60)


@pytest.mark.parametrize("exclusive", [False, True], ids=["write-lock", "exclusive-mode"])
def test_tracking_returns_while_another_process_holds_the_lock(
    holder: Any, exclusive: bool
) -> None:
    db, start = holder
    release = start(exclusive)
    sensor = ConstantPowerSensor({"cpu:0": 10.0})
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with wattwise.track("locked", db=db, sensors=[sensor], interval_s=0.02) as run:
            with run.window("w"):
                time.sleep(0.6)
            time.sleep(0.6)  # past the 1 s a writer may wait before it is worth a warning
        still_locked = not release.is_set()
    assert still_locked, "track() returned only after the lock was released"
    assert run.result is not None and run.result.energy_j > 0
    locked = [w for w in caught if issubclass(w.category, WattwiseWarning)
              and "locked" in str(w.message)]
    assert len(locked) == 1, [str(w.message) for w in caught]
    assert run.run_id is None, "the row can't exist while the lock is held"

    release.set()
    assert run.flush(60), "the record catches up once the lock is free"
    assert run.run_id is not None
    with Store(db) as s:
        rec = s.get_run(run.run_id)
        assert rec.status == "finished"
        assert rec.summary["energy_j"] == pytest.approx(run.result.energy_j)
        assert [w["name"] for w in s.windows(rec.id)] == ["w"]
        assert len(s.samples(rec.id)) >= 10
        assert sum(r.energy_j for r in s.samples(rec.id)) == pytest.approx(
            run.result.energy_j, rel=0.05)


def test_a_write_given_up_on_never_lands_later(holder: Any) -> None:
    db, start = holder
    with Store(db) as s:
        rid = s.create_run(name="r", started_unix_s=1.0, host={}, hardware={}, sensors=[],
                           versions={})
    release = start(False)
    with Store(db, timeout_s=0.3) as s:
        with pytest.raises(StoreError, match=f"{db}.*locked"):
            s.add_event(rid, 2.0, "info", "too late")
        release.set()
        s.add_event(rid, 3.0, "info", "after")
        assert [e["message"] for e in s.events(rid)] == ["after"]


def test_full_queue_drops_rows_and_records_the_gap(
    holder: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(writer_mod, "MAX_PENDING_ROWS", 30)
    db, start = holder
    release = start(False)
    sensor = ConstantPowerSensor({"cpu:0": 10.0, "dram:0": 1.0})
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with wattwise.track("full", db=db, sensors=[sensor], interval_s=0.01) as run:
            time.sleep(0.6)  # ~60 ticks x 2 domains: far more than 30 rows
    assert any("left out of the record" in str(w.message) for w in caught)
    release.set()
    assert run.flush(60)
    with Store(db) as s:
        rec = s.get_run(run.run_id)
        assert rec.status == "finished"
        gaps = [e for e in s.events(rec.id) if e["level"] == "gap"]
        assert len(gaps) == 1 and "were not written" in gaps[0]["message"]
        n_dropped = int(gaps[0]["message"].split("record gap: ")[1].split(" ")[0])
        assert n_dropped > 0
        assert any("left out of the record" in n for n in rec.summary["notes"])
        # the totals come from the meter, not the stored samples: unaffected
        assert rec.summary["energy_j"] == pytest.approx(run.result.energy_j)


def test_a_failing_write_does_not_sink_the_others_in_its_batch(tmp_path: Path) -> None:
    db = tmp_path / "runs.db"
    with Store(db) as s:
        rid = s.create_run(name="r", started_unix_s=1.0, host={}, hardware={}, sensors=[],
                           versions={})
        w = s.database.writer
        errors: list[BaseException] = []

        def bad(conn: sqlite3.Connection) -> None:
            conn.execute("INSERT INTO events (run_id, t_unix_s, level, message)"
                         " VALUES (?, 0, 'info', 'half')", (rid,))
            raise RuntimeError("boom")

        def good(conn: sqlite3.Connection) -> None:
            conn.execute("INSERT INTO events (run_id, t_unix_s, level, message)"
                         " VALUES (?, 1, 'info', 'good')", (rid,))

        for fn in (good, bad, good):
            w.submit(Task(fn, on_error=errors.append))
        assert w.drain(30)
        assert [e["message"] for e in s.events(rid)] == ["good", "good"], "bad rolled back alone"
        assert len(errors) == 1 and "boom" in str(errors[0])
        s.add_samples(rid, [SampleRow(2.0, "cpu:0", 1.0, 1.0, 1.0, 1.0)])
        assert len(s.samples(rid)) == 1


def test_an_exit_while_the_writer_folds_its_log_is_not_missed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The exit's wake-up came while the writer folded its -wal after a run, and the
    writer then slept out its whole linger: a program took 2 s more to end, at random."""
    db = tmp_path / "runs.db"
    Store(db).close()
    w = Writer(lambda: sqlite3.connect(db, isolation_level=None, check_same_thread=False),
               label="x")
    assert w.opened.wait(30)
    monkeypatch.setattr(writer_mod, "fold_wal", lambda conn: w.shutdown())
    w.stop_when_idle(linger_s=3600.0)
    w.join(60)
    assert not w._thread.is_alive(), "the writer slept its linger after the exit's wake-up"


def test_writer_reports_a_database_it_cannot_open(tmp_path: Path) -> None:
    def connect() -> sqlite3.Connection:
        raise StoreError("not a database")

    w = Writer(connect, label="x")
    assert w.opened.wait(10)
    assert isinstance(w.broken, StoreError)
    with pytest.raises(StoreError, match="not a database"):
        w.submit(Task(lambda conn: None))


_EXITS_WHILE_LOCKED = """
import sys, time, wattwise
from tests.fixtures.fake_sensors import ConstantPowerSensor
with wattwise.track("at-exit", db=sys.argv[1], interval_s=0.02,
                    sensors=[ConstantPowerSensor({"cpu:0": 5.0})]):
    time.sleep(0.2)
print("body done", flush=True)
"""


@pytest.mark.parametrize("released", [True, False], ids=["lock-freed", "lock-kept"])
def test_a_program_that_exits_while_locked_flushes_or_says_what_was_not_written(
    holder: Any, released: bool
) -> None:
    import os
    import subprocess

    db, start = holder
    release = start(True)
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2]),
           "WATTWISE_EXIT_FLUSH_S": "120" if released else "1"}
    child = subprocess.Popen([sys.executable, "-c", _EXITS_WHILE_LOCKED, str(db)], env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert child.stdout is not None and child.stdout.readline().strip() == "body done"
    if released:
        time.sleep(2.0)  # the program is at its exit, waiting (silently for the first 1 s)
        release.set()
    _, err = child.communicate(timeout=180)
    assert child.returncode == 0
    assert "waiting up to" in err
    if released:
        with Store(db) as s:
            rec = s.get_run("at-exit")
            assert rec.status == "finished" and len(s.samples(rec.id)) >= 3
    else:
        assert "rows of run records were not written" in err
        release.set()


def test_a_lock_freed_mid_run_leaves_one_gap_event_and_a_note(
    holder: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(writer_mod, "MAX_PENDING_ROWS", 30)
    db, start = holder
    release = start(False)
    sensor = ConstantPowerSensor({"cpu:0": 10.0, "dram:0": 1.0})
    with warnings.catch_warnings(record=True):
        warnings.simplefilter("always")
        with wattwise.track("freed", db=db, sensors=[sensor], interval_s=0.01) as run:
            for i in range(40):
                with run.window(f"w{i}"):
                    time.sleep(0.01)  # windows and samples pile up past the bound
            release.set()
            assert run.flush(60)
            for i in range(5):
                with run.window(f"after{i}"):
                    time.sleep(0.01)
    assert run.flush(60)
    with Store(db) as s:
        rec = s.get_run(run.run_id)
        gaps = [e for e in s.events(rec.id) if e["level"] == "gap"]
        assert len(gaps) == 1, [g["message"] for g in gaps]
        assert any("left out of the record" in n for n in rec.summary["notes"])
        names = [w["name"] for w in s.windows(rec.id)]
        assert [f"after{i}" for i in range(5)] == names[-5:], "written once the lock went"


def test_names_python_could_not_decode_are_stored_escaped(tmp_path: Path) -> None:
    db = tmp_path / "runs.db"
    sensor = ConstantPowerSensor({"cpu:0": 1.0})
    with wattwise.track("bad\udcff", db=db, sensors=[sensor], interval_s=0.01) as run:
        with run.window("\ud800w"):
            pass
        run.event("msg \udcfe")
    with Store(db) as s:
        rec = s.get_run(run.run_id)
        assert rec.name == "bad\\udcff" and rec.status == "finished"
        assert [w["name"] for w in s.windows(rec.id)] == ["\\ud800w"]
        assert any(e["message"] == "msg \\udcfe" for e in s.events(rec.id))


def _child_writes_elsewhere(path: str) -> None:
    with Store(path) as s:
        rid = s.create_run(name="child", started_unix_s=1.0, host={}, hardware={},
                           sensors=[], versions={})
        s.add_event(rid, 2.0, "info", "from the child")


def test_a_fork_while_a_writer_waits_for_the_lock_leaves_the_child_working(
    holder: Any, tmp_path: Path
) -> None:
    db, start = holder
    release = start(False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with wattwise.track("parent", db=db, sensors=[ConstantPowerSensor({"cpu:0": 1.0})],
                            interval_s=0.01):
            time.sleep(0.3)  # the writer is now retrying BEGIN IMMEDIATE
            child = mp.get_context("fork").Process(
                target=_child_writes_elsewhere, args=(str(tmp_path / "child.db"),))
            child.start()
            child.join(60)
    assert child.exitcode == 0
    with Store(tmp_path / "child.db") as s:
        assert [e["message"] for e in s.events(1)] == ["from the child"]
    release.set()


def test_a_writer_waiting_out_a_lock_does_not_starve_another_database(
    holder: Any, tmp_path: Path
) -> None:
    """One database locked by another program must not keep this process from
    opening and writing a different database (the writers share the fork guard)."""
    db, start = holder
    release = start(False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with wattwise.track("parent", db=db, sensors=[ConstantPowerSensor({"cpu:0": 1.0})],
                            interval_s=0.01):
            time.sleep(0.3)  # the writer is now retrying BEGIN IMMEDIATE
            for i in range(20):
                with Store(tmp_path / f"other{i}.db", timeout_s=10.0) as s:
                    rid = s.create_run(name=f"o{i}", started_unix_s=1.0, host={},
                                       hardware={}, sensors=[], versions={})
                    assert s.get_run(rid).name == f"o{i}"
    release.set()


def test_a_write_that_meets_a_damaged_file_says_what_every_reader_says(
        tmp_path: Path) -> None:
    from wattwise.records.damaged_file import damaged_error

    db = tmp_path / "runs.db"
    w = Writer(lambda: sqlite3.connect(db, check_same_thread=False), label=f"run database {db}",
               path=db)
    errors: list[BaseException] = []

    def damaged(conn: sqlite3.Connection) -> None:
        raise sqlite3.DatabaseError("database disk image is malformed")

    w.submit(Task(damaged, what="add samples", on_error=errors.append))
    assert w.drain(30)
    assert [str(e) for e in errors] == [str(damaged_error(db))]


def test_a_run_is_finished_in_its_record_once_its_block_has_ended(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``wattwise show latest`` right after a ``with track(...)`` block found the run
    "running" with no summary (the writer had not yet committed the finish); a slow
    writer makes that certain here."""
    from wattwise.records import rows

    slow = rows.update_finish

    def update_finish(*args: Any, **kwargs: Any) -> Any:
        time.sleep(0.5)
        return slow(*args, **kwargs)

    monkeypatch.setattr(rows, "update_finish", update_finish)
    db = tmp_path / "runs.db"
    with wattwise.track("done", db=db, sensors=[ConstantPowerSensor({"cpu:0": 10.0})],
                        interval_s=0.05) as run:
        time.sleep(0.2)
    conn = sqlite3.connect(db)
    try:
        status, summary = conn.execute("SELECT status, summary_json FROM runs").fetchone()
    finally:
        conn.close()
    assert status == "finished" and summary is not None
    assert run.result is not None and f'"energy_j":{run.result.energy_j!r}' in summary
