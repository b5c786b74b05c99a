"""The first runs-list requests of a dashboard just started, as `wattwise dashboard`
starts one: the file opened and checked once, then per server `create_app` and the same
request four times 0.5 s apart (the rows' notes are read in the first, or after it where
the list's wait runs out, and kept per run). Three servers per request; prints
milliseconds and how many rows came with their notes still pending. The list's wait is
the dashboard's own (0.1 s) unless ``WATTWISE_LIST_NOTES_WAIT_S`` says otherwise;
``all_notes=true`` waits for every note.

    .venv/bin/python benchmarks/bench_first_list.py RUNS.db [URL ...]
"""

from __future__ import annotations

import sys
import time

from fastapi.testclient import TestClient

from wattwise.records.store import Store
from wattwise.server import create_app


def main(path: str, urls: list[str]) -> None:
    Store(path, readonly=True).close()  # as `wattwise dashboard` does before serving
    for url in urls or ["/api/runs", "/api/runs?sort=duration", "/api/runs?all_notes=true"]:
        for _ in range(3):
            with TestClient(create_app(path, port=8787),
                            base_url="http://127.0.0.1:8787") as c:
                said = []
                for _k in range(4):
                    t0 = time.perf_counter()
                    got = c.get(url)
                    took = time.perf_counter() - t0
                    assert got.status_code == 200, got.text[:300]
                    pending = sum(1 for r in got.json()["runs"] if r.get("notes_pending"))
                    said.append(f"{took * 1000:.0f} ms ({pending} pending)")
                    time.sleep(0.5)
            print(f"{url}: " + ", ".join(said))

if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2:])
