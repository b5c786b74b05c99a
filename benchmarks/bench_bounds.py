"""What the runs index's look at another program's changes costs: the count of runs
alone, against the count with the lowest and highest ids as three subqueries
(``server.runs_recheck._BOUNDS``, what each look reads), and as one query of three
aggregates (which SQLite answers by reading every row).

    .venv/bin/python benchmarks/bench_bounds.py               # 100,000 runs, 300 reads each

A run database made through ``Store`` (its schema and indexes), its runs copied in by
SQL with a summary of about 1.5 kB each; each query read ``--reads`` times, the three
interleaved, on one connection; medians and 90th percentiles in milliseconds.
"""

from __future__ import annotations

import argparse
import json
import platform
import sqlite3
import statistics
import tempfile
import time
from pathlib import Path

from wattwise.records.store import Store
from wattwise.server.runs_recheck import _BOUNDS

QUERIES = {"count alone": "SELECT count(*) FROM runs", "count and bounds": _BOUNDS,
           "one query of three aggregates":
               "SELECT count(*), min(id), max(id) FROM runs"}


def build(path: Path, runs: int) -> None:
    with Store(path) as store:
        store.create_run(name="seed", started_unix_s=1.7e9, host={}, hardware={},
                         sensors=[], versions={})
    summary = json.dumps({"energy_j": 12.5, "low_j": 11.0, "high_j": 14.0,
                          "notes": ["x" * 1400]})
    conn = sqlite3.connect(path)
    with conn:
        conn.executemany(
            "INSERT INTO runs (name, status, started_unix_s, ended_unix_s, hostname,"
            " host_json, hardware_json, sensors_json, versions_json, summary_json,"
            " tags_json) VALUES (?, 'finished', ?, ?, 'bench', '{}', '{}', '[]', '{}', ?,"
            " '{}')", ((f"run-{i}", 1.7e9 + i, 1.7e9 + i + 60, summary)
                       for i in range(runs - 1)))
    conn.close()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=100_000)
    ap.add_argument("--reads", type=int, default=300)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "runs.db"
        build(path, args.runs)
        conn = sqlite3.connect(path)
        times: dict[str, list[float]] = {k: [] for k in QUERIES}
        for sql in QUERIES.values():  # warm
            conn.execute(sql).fetchall()
        for _ in range(args.reads):
            for name, sql in QUERIES.items():
                t = time.perf_counter()
                conn.execute(sql).fetchall()
                times[name].append((time.perf_counter() - t) * 1000)
        conn.close()
    print(f"{platform.processor() or platform.machine()}, Python {platform.python_version()},"
          f" SQLite {sqlite3.sqlite_version}, {args.runs:,} runs, {args.reads} reads each")
    for name, ms in times.items():
        ms.sort()
        print(f"{name}: median {statistics.median(ms):.4f} ms,"
              f" p90 {ms[int(0.9 * len(ms))]:.4f} ms")


if __name__ == "__main__":
    main()
