"""How long reading one stored summary takes through ``records.rows.loads`` (strict JSON
read as SQLite reads it: ``records.stored_json``), against Python's plain ``json.loads``
of the same text, measured in the same run.

    .venv/bin/python benchmarks/bench_stored_json.py [--n 20000]

The summary is one ``wattwise.track`` writes for a short run (one measured domain), as
stored; each figure is the best of 5 repeats of ``n`` reads, in microseconds per read.
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
    n = ap.parse_args().n

    from tests._damage import tracked_run

    from wattwise.records import rows

    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "r.db"
        rid = tracked_run(db)
        with sqlite3.connect(db) as conn:
            text = conn.execute("SELECT summary_json FROM runs WHERE id = ?",
                                (rid,)).fetchone()[0]
        conn.close()

    def per_read(fn: object) -> float:
        return min(timeit.repeat(fn, number=n, repeat=5)) / n * 1e6  # type: ignore[arg-type]

    plain = per_read(lambda: json.loads(text))
    strict = per_read(lambda: rows.loads(text, dict))
    print(f"summary of {len(text)} characters, {n} reads x 5")
    print(f"json.loads: {plain:.1f} us; rows.loads: {strict:.1f} us; ratio {strict / plain:.2f}")


if __name__ == "__main__":
    main()
