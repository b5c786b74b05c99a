"""How long the first ``/api/runs/ID/timeline`` of a dashboard just started takes (the
samples summed into the chart's buckets inside SQLite): one fresh app per call, CALLS
calls; prints each time and the median.

    PYTHONPATH=SRC .venv/bin/python benchmarks/bench_timeline.py RUNS.db RUN_ID [CALLS]
"""

from __future__ import annotations

import statistics
import sys
import time

from starlette.testclient import TestClient

from wattwise.server import create_app


def first_timeline(db: str, rid: int) -> float:
    with TestClient(create_app(db), base_url="http://127.0.0.1") as client:
        t0 = time.perf_counter()
        got = client.get(f"/api/runs/{rid}/timeline")
        took = time.perf_counter() - t0
    if got.status_code != 200:
        raise SystemExit(f"timeline of run {rid}: {got.status_code} {got.text[:200]}")
    return took


if __name__ == "__main__":
    db, rid = sys.argv[1], int(sys.argv[2])
    calls = int(sys.argv[3]) if len(sys.argv) > 3 else 5
    times = [first_timeline(db, rid) for _ in range(calls)]
    print(" ".join(f"{t:.2f}" for t in times), f"median {statistics.median(times):.2f} s")
