"""The dashboard's pass over every run again (``runs_recheck.Rechecks.run``), which
follows an ended run another tool changed or deleted: how long one pass takes beside
the index's own build, and the runs list's pages while one runs, on the database
``bench_dashboard.build`` makes.

    .venv/bin/python benchmarks/bench_recheck.py --runs 100000 --reps 3 --db /tmp/r100k.db

The pass runs in the background, at most once in ``RECHECK_TIMES`` (10) times its own
length: its length bounds the share of a processor it takes (a tenth at most) and how
late a change is followed. Pages are timed in-process (``TestClient``) with the index
built and every order made, 7 times each, with no pass and then during one started by
hand (a pass that finds no change, as most do). Then, in a copy, the first page after
another program deletes a run, and after it inserts one below every id (each found by
the count of runs at that request).
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_dashboard import build

from wattwise.server import runs_index
from wattwise.server._sql import Reads

PAGES = ("/api/runs", "/api/runs?sort=energy&offset=50000", "/api/runs?q=job-4242-",
         "/api/runs?status=failed&sort=name")


def _pass_alone(path: Path, reps: int) -> None:
    reads = Reads(path)
    try:
        t = time.perf_counter()
        entries = reads.index()
        print(f"index built: {len(entries):,} runs in {time.perf_counter() - t:.2f} s")
        took = []
        for _ in range(reps):
            t = time.perf_counter()
            reads._index.rechecks.run()
            took.append(time.perf_counter() - t)
        print(f"pass over every run again: median {statistics.median(took):.2f} s, "
              f"worst {max(took):.2f} s of {reps} ({', '.join(f'{x:.2f}' for x in took)})")
    finally:
        reads.close()


def _pages_during_a_pass(path: Path) -> None:
    from fastapi.testclient import TestClient

    from wattwise.server import create_app

    def timed(client: TestClient, url: str) -> tuple[float, float]:
        out = []
        for _ in range(7):
            t = time.perf_counter()
            assert client.get(url).status_code == 200
            out.append((time.perf_counter() - t) * 1000)
        return statistics.median(out), max(out)

    with TestClient(create_app(path), base_url="http://127.0.0.1") as client:
        index = None
        while index is None or not index.warmed.is_set():
            client.get("/api/runs")
            time.sleep(0.5)
            index = max((o for o in gc.get_objects() if isinstance(o, runs_index.RunsIndex)),
                        key=lambda i: len(i.entries), default=None)
        idle = {u: timed(client, u) for u in PAGES}
        pass_ = threading.Thread(target=index.rechecks.run)
        pass_.start()
        time.sleep(0.3)
        during = {u: timed(client, u) for u in PAGES}
        still = pass_.is_alive()
        pass_.join()
    for u in PAGES:
        print(f"{u}: no pass {idle[u][0]:.0f} ms median ({idle[u][1]:.0f} worst), during a "
              f"pass {during[u][0]:.0f} ms ({during[u][1]:.0f})")
    print(f"the pass still ran when the last page was answered: {still}")


def _pages_after_deletions(path: Path, reps: int) -> None:
    """The first page after another program deletes a run, in a copy of ``path``: the
    count of runs differs from the index's, so every id is read and the run dropped
    (``runs_recheck.same_count``), and the orders are made again; against a page after
    no change."""
    import shutil
    import sqlite3

    from fastapi.testclient import TestClient

    from wattwise.server import create_app

    url = "/api/runs?sort=energy&offset=50000"
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / "runs.db"
        shutil.copyfile(path, copy)
        with TestClient(create_app(copy), base_url="http://127.0.0.1") as client:
            index = None
            while index is None or not index.warmed.is_set():
                client.get(url)
                time.sleep(0.5)
                index = max((o for o in gc.get_objects()
                             if isinstance(o, runs_index.RunsIndex)),
                            key=lambda i: len(i.entries), default=None)
            still, after, below = [], [], []
            right = 0  # answers whose total is the count of runs
            for k in range(reps):
                t = time.perf_counter()
                assert client.get(url).status_code == 200
                still.append((time.perf_counter() - t) * 1000)
                for change, took in ((_DELETE, after), (_INSERT_BELOW.format(-1 - k), below)):
                    conn = sqlite3.connect(copy)
                    with conn:
                        conn.execute(change)
                        (count,) = conn.execute("SELECT count(*) FROM runs").fetchone()
                    conn.close()
                    t = time.perf_counter()
                    got = client.get(url)
                    took.append((time.perf_counter() - t) * 1000)
                    assert got.status_code == 200
                    right += got.json()["total"] == count
    print(f"{url}: no change {statistics.median(still):.0f} ms median ({max(still):.0f} "
          f"worst); first after another program's delete {statistics.median(after):.0f} ms "
          f"({max(after):.0f}), after its insert below every id "
          f"{statistics.median(below):.0f} ms ({max(below):.0f}), of {reps} each; the "
          f"total right after a change was the count of runs in {right} of {2 * reps}")


#: Another program's changes: the oldest run deleted (on no page asked), and a copy of
#: the newest inserted at an id below every other.
_DELETE = "DELETE FROM runs WHERE id = (SELECT min(id) FROM runs WHERE id > 0)"
_INSERT_BELOW = (
    "INSERT INTO runs SELECT {}, name, status, started_unix_s, ended_unix_s,"
    " heartbeat_unix_s, hostname, pid, pid_started_unix_s, exit_code, host_json,"
    " hardware_json, sensors_json, versions_json, command_json, summary_json, tags_json"
    " FROM runs WHERE id = (SELECT max(id) FROM runs)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", type=int, default=100_000)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--db", type=Path, default=None,
                    help="keep the database there and reuse it on the next run")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = args.db or Path(tmp) / "runs.db"
        if not path.exists():
            t = time.perf_counter()
            build(path, args.runs, 1000)
            print(f"built {path} ({args.runs:,} runs) in {time.perf_counter() - t:.1f} s")
        _pass_alone(path, args.reps)
        _pages_during_a_pass(path)
        _pages_after_deletions(path, 2 * args.reps + 1)


if __name__ == "__main__":
    main()
