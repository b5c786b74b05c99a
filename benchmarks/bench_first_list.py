"""The first runs-list requests of a dashboard just started, as `wattwise dashboard`
starts one: the file opened and checked once, then per server `create_app` and the same
request twice (the first builds the rows' notes, kept per run after). Three servers per
request; prints milliseconds.

    .venv/bin/python benchmarks/bench_first_list.py RUNS.db
"""

from __future__ import annotations

import sys
import time

from fastapi.testclient import TestClient

from wattwise.records.store import Store
from wattwise.server import create_app


def main(path: str) -> None:
    Store(path, readonly=True).close()  # as `wattwise dashboard` does before serving
    for url in ("/api/runs", "/api/runs?sort=duration"):
        for _ in range(3):
            with TestClient(create_app(path, port=8787),
                            base_url="http://127.0.0.1:8787") as c:
                t0 = time.perf_counter()
                first = c.get(url)
                a = time.perf_counter() - t0
                t0 = time.perf_counter()
                c.get(url)
                b = time.perf_counter() - t0
                assert first.status_code == 200, first.text[:300]
            print(f"{url}: first {a * 1000:.0f} ms, again {b * 1000:.0f} ms")


if __name__ == "__main__":
    main(sys.argv[1])
