"""What the dashboard's watch for a file rewritten in place (``server.in_place``) costs.

    .venv/bin/python benchmarks/bench_in_place.py                  # 10,000 runs
    .venv/bin/python benchmarks/bench_in_place.py --runs 2000 --reps 400

Every request ``stat``s the run database and its ``-shm`` (``RewriteWatch.rewritten``);
only where the file's size or modification time moved (a checkpoint, a rewrite) is the
``-shm``'s head read, by another process (``head``). Timed here:

1. ``rewritten()`` with nothing moved, against the one ``os.stat`` of the file every
   request made before it (a ratio measured in the same run);
2. ``rewritten()`` after a checkpoint moved the file (the ``head`` spawn);
3. ``/api/runs?limit=50`` through the app (``TestClient``), with the watch and with it
   stubbed out (``rewritten`` always False), requests interleaved;
4. the same while a writer in this process records a run every 50 ms and checkpoints
   every 0.5 s, as a training job's tracker beside a dashboard does.
"""

from __future__ import annotations

import argparse
import os
import platform
import sqlite3
import statistics
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

from _machine import cpu_model  # this folder is on the path when run as a script
from bench_dashboard import build
from fastapi.testclient import TestClient

from wattwise.records.store import Store
from wattwise.server import create_app
from wattwise.server.in_place import RewriteWatch

BASE = "http://127.0.0.1:8787"


def _us(fn: Callable[[], object], n: int) -> float:
    """Median of ``n`` calls' times, microseconds."""
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times) * 1e6


def _checkpoint(path: Path, name: str) -> None:
    """A run recorded and the log checkpointed: the file's size and mtime move."""
    with Store(path) as store:
        rid = store.create_run(name=name, started_unix_s=1.9e9, host={}, hardware={},
                               sensors=[], versions={})
        store.finish_run(rid, ended_unix_s=1.9e9 + 1, status="finished", summary={})
    conn = sqlite3.connect(path)
    conn.execute("pragma wal_checkpoint(PASSIVE)")
    conn.close()


def _watch_alone(path: Path, reps: int) -> None:
    # a reader holding the file open, as the dashboard does, so its -shm stays
    held = Store(path, readonly=True)
    held.list_runs(limit=1)
    watch = RewriteWatch(path)
    stat_us = _us(lambda: os.stat(path), reps * 10)
    steady_us = _us(watch.rewritten, reps * 10)
    print(f"1. os.stat of the file: {stat_us:.1f} us; rewritten() with nothing moved: "
          f"{steady_us:.1f} us ({steady_us / stat_us:.2f} x the stat)")
    moved = []
    for k in range(min(reps, 50)):
        _checkpoint(path, f"moved-{k}")
        t0 = time.perf_counter()
        said = watch.rewritten()
        moved.append(time.perf_counter() - t0)
        assert not said, "a checkpoint read as a rewrite"
    print(f"2. rewritten() after a checkpoint (n = {len(moved)}): median "
          f"{statistics.median(moved) * 1e3:.2f} ms, worst {max(moved) * 1e3:.2f} ms")
    held.close()


def _requests(path: Path, reps: int, writer: bool) -> tuple[list[float], list[float]]:
    """Request times (s) with the watch and with it stubbed out, interleaved."""
    real = RewriteWatch.rewritten
    on: list[float] = []
    off: list[float] = []
    stop = threading.Event()

    def write() -> None:
        k, last = 0, time.monotonic()
        with Store(path) as store:
            while not stop.is_set():
                rid = store.create_run(name=f"w{k}", started_unix_s=1.9e9 + k, host={},
                                       hardware={}, sensors=[], versions={})
                store.finish_run(rid, ended_unix_s=1.9e9 + k + 1, status="finished",
                                 summary={})
                k += 1
                if time.monotonic() - last >= 0.5:
                    conn = sqlite3.connect(path)
                    conn.execute("pragma wal_checkpoint(PASSIVE)")
                    conn.close()
                    last = time.monotonic()
                time.sleep(0.05)

    with TestClient(create_app(path, port=8787), base_url=BASE) as c:
        c.get("/api/runs?limit=50")
        for _ in range(20):  # the runs index built, the caches warm
            c.get("/api/runs?limit=50")
        thread = threading.Thread(target=write, daemon=True) if writer else None
        if thread:
            thread.start()
        try:
            for k in range(reps * 2):
                stubbed = k % 2 == 1
                RewriteWatch.rewritten = (lambda self: False) if stubbed else real
                t0 = time.perf_counter()
                r = c.get("/api/runs?limit=50")
                (off if stubbed else on).append(time.perf_counter() - t0)
                assert r.status_code in (200, 503), r.text
        finally:
            RewriteWatch.rewritten = real
            stop.set()
            if thread:
                thread.join()
    return on, off


def _said(label: str, on: list[float], off: list[float]) -> None:
    def q(xs: list[float], p: float) -> float:
        return sorted(xs)[min(len(xs) - 1, int(p * len(xs)))] * 1e3

    m_on, m_off = statistics.median(on) * 1e3, statistics.median(off) * 1e3
    print(f"{label}: with the watch median {m_on:.2f} ms (p90 {q(on, 0.9):.2f}, worst "
          f"{max(on) * 1e3:.2f}); stubbed out median {m_off:.2f} ms (p90 {q(off, 0.9):.2f}, "
          f"worst {max(off) * 1e3:.2f}); ratio of medians {m_on / m_off:.3f} (n = {len(on)} "
          "each)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=10_000)
    ap.add_argument("--reps", type=int, default=300)
    args = ap.parse_args()
    print(f"machine: {cpu_model()}, {os.cpu_count()} CPUs, Python "
          f"{platform.python_version()}, SQLite {sqlite3.sqlite_version}")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "runs.db"
        build(path, args.runs, 0)
        print(f"database: {args.runs:,} runs")
        _watch_alone(path, args.reps)
        _said("3. /api/runs?limit=50, nothing writing", *_requests(path, args.reps, False))
        _said("4. /api/runs?limit=50, a writer recording", *_requests(path, args.reps, True))


if __name__ == "__main__":
    main()
