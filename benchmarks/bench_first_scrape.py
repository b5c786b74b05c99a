"""The first ``/metrics`` scrape of a dashboard just started, and the second.

    PYTHONPATH=src .venv/bin/python benchmarks/bench_first_scrape.py /tmp/bdlost.db

The database is one ``bench_dashboard.py --db PATH --lost 20000`` builds (100,000 runs,
20,000 of them lost). The scrape goes through the app in-process (``TestClient``), with
the index build of a server just started running beside it, as in a real start. Any
other database may be given: one of 100,000 sound records, or of 100,000 records whose
stored total disagrees with their emissions block (repriced from their samples, as
``report`` reprices them: ``metrics.repriced_shares``).
"""

from __future__ import annotations

import sys
import time

from fastapi.testclient import TestClient

from wattwise.server.app import create_app


def main(db: str) -> None:
    with TestClient(create_app(db), base_url="http://127.0.0.1") as client:
        t0 = time.perf_counter()
        first = client.get("/metrics")
        t1 = time.perf_counter()
        client.get("/metrics")
        t2 = time.perf_counter()
    print(f"status {first.status_code}: first scrape {t1 - t0:.2f} s, second {t2 - t1:.2f} s,"
          f" {len(first.text)} characters")


if __name__ == "__main__":
    main(sys.argv[1])
