"""Run records under stress: nothing committed is lost, a locked database never blocks
tracking, and what a second tracked run in one process costs next to CodeCarbon.

    .venv/bin/python benchmarks/bench_records.py stress      # 8 procs x 4 threads x 500 windows
    .venv/bin/python benchmarks/bench_records.py lock        # another process locks for 60 s
    .venv-bench/bin/python benchmarks/bench_records.py cost  # per-run cost, both tools

``stress``: every thread of every process tracks its own run and opens 500
windows; after each 25 it waits for its record to be written (``run.flush``)
and only then appends "run id, windows committed" to a log it fsyncs. The
parent SIGKILLs some processes at random moments. Afterwards every logged
count must be in the database (nothing reported committed is lost),
``PRAGMA integrity_check`` must say ok, the survivors' runs must be complete
and the killed processes' runs must read ``lost``.

``lock``: a second process takes the database's lock (``locking_mode =
EXCLUSIVE``: not even readers get in) for 60 s; ``with wattwise.track(): ...``
around a 1 s body is timed, its warnings counted, and the time until its record
is complete once the lock is gone is measured.

``cost``: each tool in its own fresh interpreter, cases interleaved, N runs
after a warm-up run, one process each: wattwise ``with track(): pass`` (default
SQLite record) and CodeCarbon ``OfflineEmissionsTracker(...).start(); stop()``
(its default CSV output). Medians with p10/p90. ``--baseline-src`` adds an
older wattwise (its ``src`` folder) to the same interleaved run.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

HERE = Path(__file__).resolve()


# -- stress ------------------------------------------------------------------------

_STRESS_CHILD = """
import os, sys, threading, wattwise
db, log_path, threads, windows = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
log = os.open(log_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
lock = threading.Lock()

def note(line):
    with lock:
        os.write(log, (line + "\\n").encode())
        os.fsync(log)

def work(k):
    with wattwise.track(f"p{os.getpid()}-t{k}", db=db, interval_s=0.05) as run:
        for i in range(windows):
            with run.window(f"w{i}"):
                pass
            if (i + 1) % 25 == 0:
                if run.flush(120) and run.run_id is not None:
                    note(f"{run.run_id} {i + 1}")
    run.flush(120)
    note(f"{run.run_id} done")

ts = [threading.Thread(target=work, args=(k,)) for k in range(threads)]
for t in ts: t.start()
for t in ts: t.join()
"""


def stress(procs: int, threads: int, windows: int, kills: int, seed: int) -> dict[str, object]:
    rng = random.Random(seed)
    tmp = Path(tempfile.mkdtemp(prefix="ww-stress-"))
    db = tmp / "runs.db"
    children = []
    t0 = time.monotonic()
    for p in range(procs):
        log = tmp / f"log-{p}.txt"
        children.append((subprocess.Popen(
            [sys.executable, "-c", _STRESS_CHILD, str(db), str(log), str(threads), str(windows)]
        ), log))
    victims = rng.sample(range(procs), kills)
    for v in sorted(victims, key=lambda _: rng.random()):
        time.sleep(rng.uniform(0.5, 4.0))
        children[v][0].send_signal(signal.SIGKILL)
    for proc, _ in children:
        proc.wait(600)
    wall = time.monotonic() - t0

    conn = sqlite3.connect(db)
    integrity = conn.execute("PRAGMA integrity_check").fetchone()[0]
    counts = dict(conn.execute("SELECT run_id, count(*) FROM windows GROUP BY run_id"))
    statuses = dict(conn.execute("SELECT id, status FROM runs"))
    conn.close()
    from wattwise.records.store import Store

    with Store(db) as store:
        reported = {r.id: r.status for r in store.list_runs(10_000)}

    claimed = lost = done = incomplete = 0
    killed_codes = []
    for proc, log in children:
        killed_codes.append(proc.returncode)
        best: dict[int, int] = {}
        finished: set[int] = set()
        for line in log.read_text().splitlines() if log.exists() else []:
            rid_s, what = line.split()
            if rid_s == "None":
                continue
            rid = int(rid_s)
            if what == "done":
                finished.add(rid)
            else:
                best[rid] = max(best.get(rid, 0), int(what))
        for rid, n in best.items():
            claimed += n
            lost += max(0, n - counts.get(rid, 0))
        for rid in finished:
            done += 1
            if counts.get(rid, 0) != windows or statuses.get(rid) != "finished":
                incomplete += 1
    killed_runs = [rid for rid, s in statuses.items() if s == "running"]
    return {
        "processes": procs, "threads": threads, "windows_per_thread": windows,
        "sigkilled": sorted(victims), "exit_codes": killed_codes, "wall_s": round(wall, 2),
        "integrity_check": integrity,
        "windows_reported_committed": claimed,
        "windows_reported_committed_but_missing": lost,
        "windows_in_database": sum(counts.values()),
        "runs_finished_by_survivors": done,
        "survivor_runs_incomplete": incomplete,
        "killed_runs_still_marked_running": len(killed_runs),
        "killed_runs_reported_lost": sum(1 for r in killed_runs if reported.get(r) == "lost"),
    }


# -- lock ----------------------------------------------------------------------------

_HOLDER = """
import sqlite3, sys, time
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("PRAGMA locking_mode = EXCLUSIVE")
conn.execute("BEGIN EXCLUSIVE")
conn.execute("CREATE TABLE IF NOT EXISTS _holder (x)")
print("held", flush=True)
time.sleep(float(sys.argv[2]))
conn.execute("ROLLBACK")
conn.close()
"""

_TRACKED = """
import json, sys, time, warnings, wattwise
from wattwise.measure.meter import WattwiseWarning
t0 = time.monotonic()
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    with wattwise.track("locked", db=sys.argv[1]) as run:
        with run.window("body"):
            time.sleep(1.0)
    t_track = time.monotonic() - t0
ww = [str(w.message) for w in caught if issubclass(w.category, WattwiseWarning)]
ok = run.flush(600) if hasattr(run, "flush") else None  # older trees write synchronously
t_done = time.monotonic() - t0
print(json.dumps({"track_s": t_track, "warnings": ww, "flushed": ok,
                  "record_complete_after_s": t_done, "run_id": run.run_id}))
"""


def lock(hold_s: float) -> dict[str, object]:
    tmp = Path(tempfile.mkdtemp(prefix="ww-lock-"))
    db = tmp / "runs.db"
    from wattwise.records.store import Store

    Store(db).close()
    holder = subprocess.Popen([sys.executable, "-c", _HOLDER, str(db), str(hold_s)],
                              stdout=subprocess.PIPE, text=True)
    assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
    t_held = time.monotonic()
    out = subprocess.run([sys.executable, "-c", _TRACKED, str(db)], capture_output=True,
                         text=True, timeout=hold_s + 600)
    holder.wait()
    res = json.loads(out.stdout.strip().splitlines()[-1])
    with Store(db) as store:
        rec = store.get_run(res["run_id"])
        res["status"] = rec.status
        res["windows"] = [w["name"] for w in store.windows(rec.id)]
        res["samples"] = len(store.samples(rec.id))
    res["lock_held_s"] = hold_s
    res["tracked_started_after_lock_s"] = round(time.monotonic() - t_held, 1) - round(
        res["record_complete_after_s"], 1)
    return res


# -- cost ------------------------------------------------------------------------------

_COST_WW = """
import json, sys, tempfile, time, warnings
import wattwise
n = int(sys.argv[1]); db = tempfile.mkdtemp() + "/runs.db"
with wattwise.track("warm-up", db=db):
    pass
ts = []
for i in range(n):
    t0 = time.perf_counter()
    with wattwise.track("run", db=db):
        pass
    ts.append(time.perf_counter() - t0)
print(json.dumps(ts))
"""

_COST_CC = """
import json, logging, sys, tempfile, time
from codecarbon import OfflineEmissionsTracker
n = int(sys.argv[1]); out = tempfile.mkdtemp()
def one():
    t = OfflineEmissionsTracker(country_iso_code="DEU", output_dir=out, log_level="error",
                                measure_power_secs=1)
    t.start(); t.stop()
one()
ts = []
for i in range(n):
    t0 = time.perf_counter(); one(); ts.append(time.perf_counter() - t0)
print(json.dumps(ts))
"""


def _stats_ms(ts: list[float]) -> dict[str, float]:
    ms = sorted(t * 1e3 for t in ts)
    q = statistics.quantiles(ms, n=10)
    return {"median": round(statistics.median(ms), 2), "p10": round(q[0], 2),
            "p90": round(q[-1], 2), "n": len(ms)}


def cost(n: int, rounds: int, baseline_src: str | None) -> dict[str, object]:
    cases = [("wattwise", _COST_WW, None), ("codecarbon", _COST_CC, None)]
    if baseline_src:  # an older wattwise tree, e.g. a git worktree of an earlier commit
        cases.append(("wattwise baseline", _COST_WW, baseline_src))
    got: dict[str, list[float]] = {name: [] for name, _, _ in cases}
    for _ in range(rounds):
        for tool, code, src in cases:
            env = dict(os.environ)
            if src:
                env["PYTHONPATH"] = src
            out = subprocess.run([sys.executable, "-c", code, str(n)], capture_output=True,
                                 text=True, timeout=900, env=env)
            if out.returncode != 0:
                raise SystemExit(f"{tool} failed: {out.stderr[-2000:]}")
            got[tool] += json.loads(out.stdout.strip().splitlines()[-1])
    res: dict[str, object] = {tool: _stats_ms(ts) for tool, ts in got.items()}
    ww, cc = res["wattwise"], res["codecarbon"]
    res["codecarbon_over_wattwise"] = round(cc["median"] / ww["median"], 2)  # type: ignore[index]
    return res


def _machine() -> str:
    model = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{model}, {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.2f}"


def main() -> None:
    ap = argparse.ArgumentParser(description=textwrap.dedent(__doc__ or "").split("\n")[0])
    ap.add_argument("what", choices=["stress", "lock", "cost"])
    ap.add_argument("--procs", type=int, default=8)
    ap.add_argument("--threads", type=int, default=4)
    ap.add_argument("--windows", type=int, default=500)
    ap.add_argument("--kills", type=int, default=3)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--trials", type=int, default=1)
    ap.add_argument("--hold-s", type=float, default=60.0)
    ap.add_argument("-n", type=int, default=50)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--baseline-src", help="also time the wattwise found in this src folder")
    args = ap.parse_args()
    print(f"# {args.what} on {_machine()}, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")
    if args.what == "stress":
        for trial in range(args.trials):
            print(json.dumps(stress(args.procs, args.threads, args.windows, args.kills,
                                    args.seed + trial)))
    elif args.what == "lock":
        print(json.dumps(lock(args.hold_s)))
    else:
        print(json.dumps(cost(args.n, args.rounds, args.baseline_src)))


if __name__ == "__main__":
    main()
