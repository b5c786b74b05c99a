"""How long each refresh of a running run's timeline takes (``/api/runs/ID/timeline``, as
its page asks every few seconds), for a run of SAMPLES samples stored as running by this
process: one app, REFRESHES calls after ``/api/runs/ID`` (which the page asks first);
prints each time and whether the timeline drew the run's grid intensity.

    PYTHONPATH=SRC .venv/bin/python benchmarks/bench_running_timeline.py DB [SAMPLES] [REFRESHES]

DB is made with the samples where it does not exist (a million: about 15 s), and each
call marks its run as this process's, so it is read as running, not lost.
"""

from __future__ import annotations

import json
import os
import sqlite3
import sys
import time
from pathlib import Path

from starlette.testclient import TestClient

from wattwise.records.liveness import hostname
from wattwise.records.queries import SampleRow
from wattwise.records.store import Store
from wattwise.server import create_app

#: What a run priced in DE (yearly average) at its start stores.
OPTIONS = {"zone": "DE", "intensity_trace": None, "provider": None, "pue": None}


def make(db: Path, samples: int) -> None:
    with Store(db) as store:
        start = time.time() - samples - 10
        rid = store.create_run(
            name="running", started_unix_s=start,
            host={"hostname": hostname(), "carbon_options": OPTIONS}, hardware={},
            versions={}, pid=os.getpid(), sensors=[{"name": "model", "domains": [
                {"name": "cpu:model", "kind": "estimated", "source": "model",
                 "in_total": True}]}])
        for k in range(0, samples, 100_000):
            store.add_samples(rid, [SampleRow(start + t, "cpu:model", 5.0, 5.0, 4.5, 5.5)
                                    for t in range(k, min(samples, k + 100_000))])


if __name__ == "__main__":
    db = Path(sys.argv[1])
    samples = int(sys.argv[2]) if len(sys.argv) > 2 else 1_000_000
    refreshes = int(sys.argv[3]) if len(sys.argv) > 3 else 5
    if not db.exists():
        make(db, samples)
    with sqlite3.connect(db) as conn:  # this process's run, alive: read as running
        conn.execute("UPDATE runs SET pid = ?, pid_started_unix_s = NULL, "
                     "heartbeat_unix_s = ?", (os.getpid(), time.time()))
    conn.close()
    with TestClient(create_app(db), base_url="http://127.0.0.1") as client:
        status = client.get("/api/runs/1").json()["run"]["status"]
        times, drawn = [], []
        for _ in range(refreshes):
            t0 = time.perf_counter()
            line = client.get("/api/runs/1/timeline?points=400").json()
            times.append(time.perf_counter() - t0)
            drawn.append(line.get("intensity") is not None)
    print(json.dumps({"status": status, "samples": line["samples"],
                      "refresh_s": [round(t, 3) for t in times],
                      "intensity_drawn": all(drawn)}))
