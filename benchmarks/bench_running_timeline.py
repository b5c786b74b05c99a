"""How long each refresh of a running run's timeline takes (``/api/runs/ID/timeline``, as
its page asks every few seconds), for a run of SAMPLES samples stored as running by this
process: one app, REFRESHES calls after ``/api/runs/ID`` (which the page asks first);
prints each time and whether the timeline drew the run's grid intensity. With
``--run-too``, each refresh asks ``/api/runs/ID`` too, as the page does, and its times
are printed (``run_s``).

    PYTHONPATH=SRC .venv/bin/python benchmarks/bench_running_timeline.py DB [SAMPLES]
        [REFRESHES] [BAD_EVERY] [--run-too]

DB is made with the samples where it does not exist (a million: about 15 s): with
BAD_EVERY (default 0: none), every BAD_EVERY-th sample is stored with an energy outside
its own bounds (6 J between 4.5 and 5.5 J), a value pricing leaves out and names. Each
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


def make(db: Path, samples: int, bad_every: int = 0) -> None:
    with Store(db) as store:
        start = time.time() - samples - 10
        rid = store.create_run(
            name="running", started_unix_s=start,
            host={"hostname": hostname(), "carbon_options": OPTIONS}, hardware={},
            versions={}, pid=os.getpid(), sensors=[{"name": "model", "domains": [
                {"name": "cpu:model", "kind": "estimated", "source": "model",
                 "in_total": True}]}])
        for k in range(0, samples, 100_000):
            store.add_samples(rid, [
                SampleRow(start + t, "cpu:model", 6.0 if bad_every and t % bad_every == 0
                          else 5.0, 5.0, 4.5, 5.5)
                for t in range(k, min(samples, k + 100_000))])


if __name__ == "__main__":
    run_too = "--run-too" in sys.argv
    args = [a for a in sys.argv[1:] if a != "--run-too"]
    db = Path(args[0])
    samples = int(args[1]) if len(args) > 1 else 1_000_000
    refreshes = int(args[2]) if len(args) > 2 else 5
    if not db.exists():
        make(db, samples, int(args[3]) if len(args) > 3 else 0)
    with sqlite3.connect(db) as conn:  # this process's run, alive: read as running
        conn.execute("UPDATE runs SET pid = ?, pid_started_unix_s = NULL, "
                     "heartbeat_unix_s = ?", (os.getpid(), time.time()))
    conn.close()
    with TestClient(create_app(db), base_url="http://127.0.0.1") as client:
        status = client.get("/api/runs/1").json()["run"]["status"]
        times, drawn, run_times = [], [], []
        for _ in range(refreshes):
            if run_too:
                t0 = time.perf_counter()
                client.get("/api/runs/1").raise_for_status()
                run_times.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            line = client.get("/api/runs/1/timeline?points=400").json()
            times.append(time.perf_counter() - t0)
            drawn.append(line.get("intensity") is not None)
    print(json.dumps({"status": status, "samples": line["samples"],
                      "refresh_s": [round(t, 3) for t in times],
                      **({"run_s": [round(t, 3) for t in run_times]} if run_too else {}),
                      "intensity_drawn": all(drawn)}))
