"""The run database under several processes at once, and after a SIGKILL.

Children are started with ``spawn`` so each opens its own connections, as
separate programs sharing one database would.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import signal
import sqlite3
import sys
import threading
from pathlib import Path
from typing import Any

import pytest

from wattwise.errors import StoreError
from wattwise.records.store import SampleRow, Store

PROCESSES = 4
THREADS = 2
ROWS = 500
BATCH = 5  # 100 transactions per thread: plenty of lock contention

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="uses SIGKILL and fork-free spawn")


def _writer(db: str, proc: int, barrier: Any, errors: Any) -> None:
    """One process: a run of its own and two threads appending samples to it."""
    try:
        store = Store(db)
        rid = store.create_run(
            name=f"proc-{proc}",
            started_unix_s=1000.0 + proc,
            host={},
            hardware={},
            sensors=[],
            versions={},
            pid=os.getpid(),
        )
        barrier.wait(timeout=60)

        def thread(k: int) -> None:
            try:
                for start in range(0, ROWS, BATCH):
                    store.add_samples(
                        rid,
                        [
                            SampleRow(float(i), f"cpu:{k}", float(i), 1.0, float(i), float(i))
                            for i in range(start, start + BATCH)
                        ],
                    )
                    store.heartbeat(rid, 1000.0 + start)
                store.add_event(rid, 2000.0, "info", f"thread {k} done")
            except BaseException as exc:  # noqa: BLE001 - reported to the parent
                errors.put(f"proc {proc} thread {k}: {exc!r}")

        threads = [threading.Thread(target=thread, args=(k,)) for k in range(THREADS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        store.finish_run(rid, ended_unix_s=3000.0, status="finished", exit_code=0)
        store.close()
    except BaseException as exc:  # noqa: BLE001 - reported to the parent
        errors.put(f"proc {proc}: {exc!r}")


def test_processes_and_threads_write_concurrently_without_loss(tmp_path: Path) -> None:
    db = tmp_path / "runs.db"
    ctx = mp.get_context("spawn")
    barrier = ctx.Barrier(PROCESSES)
    errors = ctx.Queue()
    procs = [
        ctx.Process(target=_writer, args=(str(db), p, barrier, errors)) for p in range(PROCESSES)
    ]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=120)
    problems = []
    while not errors.empty():
        problems.append(errors.get())
    assert problems == []
    assert [p.exitcode for p in procs] == [0] * PROCESSES

    with Store(db) as store:
        runs = store.list_runs()
        assert sorted(r.name for r in runs) == [f"proc-{p}" for p in range(PROCESSES)]
        assert {r.status for r in runs} == {"finished"}
        for run in runs:
            rows = store.samples(run.id)
            assert len(rows) == THREADS * ROWS
            for k in range(THREADS):
                times = sorted(r.t_unix_s for r in rows if r.domain == f"cpu:{k}")
                assert times == [float(i) for i in range(ROWS)]
            assert len(store.events(run.id)) == THREADS


def _killed_child(db: str, ready: Any) -> None:
    """Commit some records, hold the write lock on an uncommitted insert, then SIGKILL."""
    store = Store(db)
    rid = store.create_run(
        name="killed",
        started_unix_s=1000.0,
        host={"hostname": "here"},
        hardware={},
        sensors=[],
        versions={},
        pid=os.getpid(),
    )
    for i in range(10):
        store.add_samples(rid, [SampleRow(1000.0 + i, "cpu:0", 2.0, 2.0, 2.0, 2.0)])
        store.heartbeat(rid, 1000.0 + i)
    store.add_window(
        rid,
        {
            "name": "w",
            "start_unix_s": 1000.0,
            "end_unix_s": 1009.0,
            "energy_j": 20.0,
            "kind": "measured",
        },
    )
    store.add_event(rid, 1009.0, "warning", "about to die")
    raw = sqlite3.connect(db, isolation_level=None)
    raw.execute("BEGIN IMMEDIATE")
    raw.execute(
        "INSERT INTO samples (run_id, t_unix_s, domain, energy_j, power_w, low_j, high_j)"
        " VALUES (?, 9999, 'cpu:0', 1, 1, 1, 1)",
        (rid,),
    )
    ready.set()
    os.kill(os.getpid(), signal.SIGKILL)


def test_sigkilled_writer_keeps_commits_and_is_reported_lost(tmp_path: Path) -> None:
    db = tmp_path / "runs.db"
    ctx = mp.get_context("spawn")
    ready = ctx.Event()
    child = ctx.Process(target=_killed_child, args=(str(db), ready))
    child.start()
    child.join(timeout=120)
    assert ready.is_set()
    assert child.exitcode == -signal.SIGKILL

    with Store(db, stale_after_s=0) as store:
        run = store.get_run("killed")
        assert run.status == "lost"
        assert run.ended_unix_s is None
        assert run.heartbeat_unix_s == 1009.0
        assert run.duration_s == pytest.approx(9.0)
        rows = store.samples(run.id)
        assert [r.t_unix_s for r in rows] == [1000.0 + i for i in range(10)]
        assert [w["name"] for w in store.windows(run.id)] == ["w"]
        assert store.events(run.id)[0]["message"] == "about to die"
        # The dead writer's lock is gone: new writes go through.
        rid = store.create_run(
            name="after", started_unix_s=2000.0, host={}, hardware={}, sensors=[], versions={}
        )
        store.add_samples(rid, [SampleRow(2001.0, "cpu:0", 1.0, 1.0, 1.0, 1.0)])
        assert len(store.samples(rid)) == 1
        assert store.get_run("killed").status == "lost", "reporting lost deletes nothing"


def test_lock_held_past_timeout_is_store_error_not_hang(tmp_path: Path) -> None:
    db = tmp_path / "runs.db"
    with Store(db) as s:
        rid = s.create_run(
            name="r", started_unix_s=1.0, host={}, hardware={}, sensors=[], versions={}
        )
    holder = sqlite3.connect(db, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        # refused opening (a loaded machine's writer thread not ready within the 0.05 s)
        # or writing: a StoreError naming the lock either way, never a hang
        with pytest.raises(StoreError, match=f"{db}.*locked"), \
                Store(db, timeout_s=0.05, retries=1) as s:
            s.add_event(rid, 2.0, "info", "x")
    finally:
        holder.execute("ROLLBACK")
        holder.close()
