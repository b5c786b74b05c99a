"""How long reading one stored summary takes through ``records.rows.loads`` (strict JSON
read as SQLite reads it: ``records.stored_json``), against Python's plain ``json.loads``
of the same text, measured in the same run.

    .venv/bin/python benchmarks/bench_stored_json.py [--n 20000] [--index 100000]

The summary is one ``wattwise.track`` writes for a short run (one measured domain), as
stored; each figure is the best of 5 repeats of ``n`` reads, in microseconds per read.
``--index N``: also the seconds the runs index's query (``runs_index.ENTRY_COLUMNS``)
takes over N copies of that run in an in-memory table, three times.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import sys
import tempfile
import timeit
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=20000)
    ap.add_argument("--index", type=int, default=0)
    args = ap.parse_args()
    n = args.n

    from tests._damage import tracked_run

    from wattwise.records import rows

    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "r.db"
        rid = tracked_run(db)
        with sqlite3.connect(db) as conn:
            text = conn.execute("SELECT summary_json FROM runs WHERE id = ?",
                                (rid,)).fetchone()[0]
            if args.index:
                _index(conn, rid, args.index)
        conn.close()

    def per_read(fn: object) -> float:
        return min(timeit.repeat(fn, number=n, repeat=5)) / n * 1e6  # type: ignore[arg-type]

    plain = per_read(lambda: json.loads(text))
    strict = per_read(lambda: rows.loads(text, dict))
    print(f"summary of {len(text)} characters, {n} reads x 5")
    print(f"json.loads: {plain:.1f} us; rows.loads: {strict:.1f} us; ratio {strict / plain:.2f}")


def _index(conn: sqlite3.Connection, rid: int, copies: int) -> None:
    """Time ``ENTRY_COLUMNS`` over ``copies`` of run ``rid``'s row."""
    import time

    from wattwise.server.runs_index import ENTRY_COLUMNS

    row = list(conn.execute("SELECT * FROM runs WHERE id = ?", (rid,)).fetchone())
    mem = sqlite3.connect(":memory:")
    mem.execute(conn.execute("SELECT sql FROM sqlite_master WHERE name = 'runs'").fetchone()[0])
    marks = ",".join("?" * len(row))
    mem.executemany(f"INSERT INTO runs VALUES ({marks})",
                    ([i + 1, *row[1:]] for i in range(copies)))
    took = []
    for _ in range(3):
        t = time.perf_counter()
        mem.execute(f"SELECT {ENTRY_COLUMNS} FROM runs").fetchall()
        took.append(time.perf_counter() - t)
    mem.close()
    print(f"runs index query over {copies} runs: " + ", ".join(f"{x:.2f}" for x in took) + " s")


if __name__ == "__main__":
    main()
