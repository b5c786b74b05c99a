"""The dashboard at scale: the runs list over 100,000 runs, and one run of a million samples.

    .venv/bin/python benchmarks/bench_dashboard.py               # 100,000 runs, 1,000,000 samples
    .venv/bin/python benchmarks/bench_dashboard.py --runs 20000 --samples 200000 --reps 5
    .venv/bin/python benchmarks/bench_dashboard.py --lost 20000     # 20,000 of them killed
    .venv/bin/python benchmarks/bench_dashboard.py --db runs.db --deep  # deep sorted pages
    .venv/bin/python benchmarks/bench_dashboard.py --db a.db --accented 0.25 --deep \
        --deep-sort name  # deep pages by name, a quarter of the names not ASCII

Builds a run database in a temporary folder: the schema through ``Store``, then
copies of one finished run (3 domains, emissions with 10 intensity intervals,
about 1.5 kB of summary, as a short real run stores) bulk-inserted through
SQLite, with varied names, start times and energies; and one run with
``--samples`` samples over 4 domains. Then each request is timed in-process
through the app (``TestClient``: routing, validation and JSON included, no
socket): the first time (the first timeline sums the samples) and the median and
worst of ``--reps`` more.

The server reads every run's name and then builds its index of runs in the
background at start-up; requests that come meanwhile are answered from SQLite's
indexes (a name filter from the names read first) where they can be, and wait for
the index otherwise. The requests are timed right after start-up, so the first
ones meet the index half built; the time the index takes alone is given after.

``--deep`` times only pages sorted by energy, emissions, duration and name far down the
order (offsets 1,000, 50,000 and the last page), each as the first request of a server
just started (``--deep-sort`` picks orders). ``--accented 0.25`` makes a quarter of the
names not ASCII, which a page by name folds in Python until the runs index is built.

The target: every runs-list request under 200 ms with 100,000 runs; the
timeline of a million samples reduced on the server (its answer's size is given).
``--db PATH`` keeps the database there and reuses it on the next run.
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from wattwise.records.store import Store


def build(path: Path, runs: int, samples: int, lost: int = 0, accented: float = 0.0) -> int:
    """The database; the id of the long run. ``lost``: that many of the runs, spread
    over the ids, made runs killed before their summary (``mark_lost``); ``accented``:
    that share of the names not ASCII ("jöb-..."), which a page by name before the runs
    index is built folds in Python, as SQLite would not."""
    with Store(path) as store:
        seed = store.create_run(name="seed", started_unix_s=1.7e9, host={"hostname": "bench"},
                                hardware={"cpu": "bench"}, versions={"wattwise": "bench"},
                                sensors=[{"name": "rapl", "domains": [
                                    {"name": d, "kind": "measured", "source": f"rapl:{d}"}
                                    for d in ("cpu:0", "dram:0", "gpu:0")]}],
                                command=["python", "train.py"])
        store.finish_run(seed, ended_unix_s=1.7e9 + 60, status="finished", summary={})
    rng = random.Random(0)
    conn = sqlite3.connect(path)
    cols = [c[1] for c in conn.execute("PRAGMA table_info(runs)")][1:]
    row = conn.execute(f"SELECT {', '.join(cols)} FROM runs WHERE id = ?", (seed,)).fetchone()
    base = dict(zip(cols, row, strict=True))
    statuses = ["finished"] * 17 + ["failed", "interrupted"]
    batch = []
    for i in range(runs - 1):
        e = rng.uniform(10, 1e6)
        start = 1.7e9 + i * 30.0
        summary = {
            "energy_j": e, "low_j": e * 0.95, "high_j": e * 1.05, "kind": "measured",
            "domains": [{"domain": d, "kind": "measured", "source": f"rapl:{d}",
                         "energy_j": e / 3, "low_j": e / 3, "high_j": e / 3,
                         "avg_power_w": e / 3 / 60, "in_total": True}
                        for d in ("cpu:0", "dram:0", "gpu:0")],
            "notes": ["no zone was given: used the yearly average of DE"],
            "emissions": {"emissions_g": e / 3.6e6 * 380, "low_g": e / 3.6e6 * 380 * 0.95,
                          "high_g": e / 3.6e6 * 380 * 1.05,
                          "zone": "DE", "source": "yearly average", "pue": 1.0,
                          "avg_intensity_g_per_kwh": 380.0,
                          "intensity_used": [[start + k * 6, start + k * 6 + 6, 380.0]
                                             for k in range(10)]},
        }
        job = "jöb" if rng.random() < accented else "job"
        values = {**base, "name": f"{job}-{i % 5000}-{rng.randrange(10**6)}",
                  "status": statuses[i % len(statuses)], "started_unix_s": start,
                  "ended_unix_s": start + rng.uniform(5, 3600), "heartbeat_unix_s": start,
                  "summary_json": json.dumps(summary)}
        batch.append(tuple(values[c] for c in cols))
        if len(batch) == 10_000:
            conn.executemany(f"INSERT INTO runs ({', '.join(cols)}) VALUES "
                             f"({', '.join('?' * len(cols))})", batch)
            conn.commit()
            batch = []
    if batch:
        conn.executemany(f"INSERT INTO runs ({', '.join(cols)}) VALUES "
                         f"({', '.join('?' * len(cols))})", batch)
        conn.commit()
    conn.close()
    with Store(path) as store:
        long = store.create_run(name="a-million-samples", started_unix_s=1.8e9,
                                host={"hostname": "bench"}, hardware={}, versions={},
                                sensors=[{"name": "rapl", "domains": [
                                    {"name": f"gpu:{k}", "kind": "measured",
                                     "source": "nvml"} for k in range(4)]}])
        from wattwise.records.store import SampleRow

        per = samples // 4
        chunk: list[SampleRow] = []
        for i in range(1, per + 1):
            t = 1.8e9 + i * 0.1
            for k in range(4):
                p = 300.0 + 50.0 * rng.random()
                chunk.append(SampleRow(t, f"gpu:{k}", p * 0.1, p, p * 0.1, p * 0.1))
            if len(chunk) >= 40_000:
                store.add_samples(long, chunk)
                chunk = []
        if chunk:
            store.add_samples(long, chunk)
        store.finish_run(long, ended_unix_s=1.8e9 + per * 0.1, status="finished", summary={})
    if lost:
        mark_lost(path, lost, rng)
    return long


def mark_lost(path: Path, lost: int, rng: random.Random) -> None:
    """Make ``lost`` runs, spread over the ids, look like jobs SIGKILLed on this machine:
    stored as running with no end and no summary, each with a process id no live process
    can have (above Linux's largest ``pid_max``) and 10 samples of 2 domains."""
    import socket

    conn = sqlite3.connect(path)
    top = conn.execute("SELECT max(id) FROM runs").fetchone()[0]
    ids = [2 + k * (top - 2) // lost for k in range(lost)]
    host = json.dumps({"hostname": socket.gethostname()})
    conn.executemany(
        "UPDATE runs SET status = 'running', ended_unix_s = NULL, summary_json = NULL,"
        " pid = ?, host_json = ? WHERE id = ?",
        [(2**30 + rid, host, rid) for rid in ids])
    rows = []
    for rid in ids:
        t0 = conn.execute("SELECT started_unix_s FROM runs WHERE id = ?", (rid,)).fetchone()[0]
        for k in range(1, 11):
            for d in ("cpu:0", "gpu:0"):
                e = rng.uniform(1, 50)
                rows.append((rid, t0 + k, d, e, e, e * 0.9, e * 1.1, 0))
    conn.executemany("INSERT INTO samples (run_id, t_unix_s, domain, energy_j, power_w, low_j,"
                     " high_j, gap) VALUES (?, ?, ?, ?, ?, ?, ?, ?)", rows)
    conn.commit()
    conn.close()


def _tick(gaps: list[float], ticking: threading.Event) -> None:
    """Sleep 1 ms at a time while ``ticking``, keeping each wait's length: how long a
    request would wait for the interpreter while the index is built."""
    last = time.perf_counter()
    while ticking.is_set():
        time.sleep(0.001)
        now = time.perf_counter()
        gaps.append(now - last - 0.001)
        last = now


def _load() -> str:
    """The machine's load average (1, 5, 15 min), where Linux gives it."""
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "unknown"


def timed(client: object, url: str, reps: int) -> tuple[float, float, float, int]:
    """Milliseconds of the first GET ``url``, then the median and worst of ``reps`` more,
    and the answer's size in bytes."""
    get = client.get  # type: ignore[attr-defined]
    t0 = time.perf_counter()
    r = get(url)
    first = (time.perf_counter() - t0) * 1000
    assert r.status_code == 200, (url, r.text[:300])
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        r = get(url)
        times.append((time.perf_counter() - t0) * 1000)
    return first, statistics.median(times), max(times), len(r.content)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", type=int, default=100_000)
    ap.add_argument("--samples", type=int, default=1_000_000)
    ap.add_argument("--reps", type=int, default=15)
    ap.add_argument("--lost", type=int, default=0,
                    help="make this many runs killed before their summary (lost)")
    ap.add_argument("--index-only", action="store_true",
                    help="only build the runs index of --db, timed (see index_only)")
    ap.add_argument("--deep", action="store_true",
                    help="only the first request of a new server, sorted by a figure, deep")
    ap.add_argument("--deep-sort", action="append", default=None,
                    choices=("energy", "emissions", "duration", "name"),
                    help="with --deep, only this order (repeat for more; default: all)")
    ap.add_argument("--accented", type=float, default=0.0,
                    help="this share of the runs' names not ASCII (jöb-...)")
    ap.add_argument("--db", type=Path, default=None,
                    help="build the database here (kept), or reuse it if it is there")
    args = ap.parse_args()
    if args.index_only:
        index_only(args.db)
        return
    from fastapi.testclient import TestClient

    from wattwise.records.store import Store
    from wattwise.server import create_app

    with tempfile.TemporaryDirectory() as tmp:
        path = args.db or Path(tmp) / "runs.db"
        t0 = time.perf_counter()
        if args.db is not None and path.exists():
            conn = sqlite3.connect(path)
            long = conn.execute("SELECT max(id) FROM runs").fetchone()[0]
            conn.close()
            print(f"reused {path} ({path.stat().st_size / 1e6:.0f} MB)")
        else:
            long = build(path, args.runs, args.samples, args.lost, args.accented)
            print(f"built {args.runs:,} runs ({args.lost:,} of them lost) and a run of "
                  f"{args.samples:,} samples in "
                  f"{time.perf_counter() - t0:.0f} s ({path.stat().st_size / 1e6:.0f} MB)")
        print(f"python {platform.python_version()}, sqlite {sqlite3.sqlite_version}")
        # `wattwise dashboard` opens the file once before it serves (a damaged file is
        # refused there, after SQLite's check of every page): so does this bench, timed.
        t0 = time.perf_counter()
        Store(path, readonly=True).close()
        print(f"opened and checked whole before serving in "
              f"{time.perf_counter() - t0:.2f} s")
        print(f"load average at the start: {_load()}, "
              f"{time.strftime('%Y-%m-%d %H:%M:%S', time.gmtime())} UTC")
        if args.deep:
            deep_pages(path, args.reps,
                       args.deep_sort or ["energy", "emissions", "duration", "name"])
            return
        cases = [
            ("runs list, first page of 50 (newest first)", "/api/runs"),
            ("runs list, page 1,000 of 50", "/api/runs?offset=49950"),
            ("runs list, last page", f"/api/runs?offset={args.runs - 50}"),
            ("runs list, filter by name", "/api/runs?q=job-4242-"),
            ("runs list, filter matching nothing", "/api/runs?q=no-such-run"),
            ("runs list, status failed", "/api/runs?status=failed"),
            ("runs list, status lost", "/api/runs?status=lost"),
            ("runs list, status running", "/api/runs?status=running"),
            ("runs list, filter by name matching a fifth of the runs", "/api/runs?q=job-1"),
            ("runs list, status failed, sorted by name", "/api/runs?status=failed&sort=name"),
            ("runs list, sorted by energy", "/api/runs?sort=energy"),
            ("runs list, sorted by emissions, ascending", "/api/runs?sort=emissions&order=asc"),
            ("runs list, sorted by emissions", "/api/runs?sort=emissions"),
            ("runs list, sorted by energy, page 20 of 50", "/api/runs?sort=energy&offset=950"),
            ("runs list, sorted by name", "/api/runs?sort=name"),
            ("runs list, sorted by duration", "/api/runs?sort=duration"),
            ("runs list, sorted by status", "/api/runs?sort=status"),
            ("runs list, filter by name, sorted by energy", "/api/runs?q=job-4242-&sort=energy"),
            ("runs list, status failed, sorted by energy",
             "/api/runs?status=failed&sort=energy"),
            ("runs list, status finished, by id, page 500", "/api/runs?status=finished"
             "&sort=id&offset=24950"),
            ("/metrics", "/metrics"),
            (f"timeline of {args.samples:,} samples, 600 points",
             f"/api/runs/{long}/timeline"),
            ("one run (record, windows, events)", f"/api/runs/{long}"),
        ]
        with TestClient(create_app(path, port=8787), base_url="http://127.0.0.1:8787") as c:
            print("\n| request | first ms | median ms | worst ms | answer bytes |\n"
                  "|---|---:|---:|---:|---:|")
            for label, url in cases:
                reps = args.reps if "timeline" not in url else max(3, args.reps // 5)
                first, med, worst, size = timed(c, url, reps)
                print(f"| {label} (`{url}`) | {first:.0f} | {med:.1f} | {worst:.1f} | {size:,} |")
        print("\nEach runs-list request again, as the first request of a server just started"
              " (a new app per request, its index not built):\n\n"
              "| request | first ms |\n|---|---:|")
        for label, url in cases:
            if url.startswith("/api/runs?") or url == "/api/runs":
                with TestClient(create_app(path, port=8787),
                                base_url="http://127.0.0.1:8787") as c:
                    t0 = time.perf_counter()
                    r = c.get(url)
                    ms = (time.perf_counter() - t0) * 1000
                    assert r.status_code == 200, (url, r.text[:300])
                print(f"| {label} (`{url}`) | {ms:.0f} |")
        print(f"load average at the end: {_load()}, "
              f"{time.strftime('%Y-%m-%d %H:%M:%S', time.gmtime())} UTC")
        # What the server does in the background at start-up, timed alone, in a process of
        # its own (this one holds the garbage of every server above, which a collection
        # walks): until it is done, pages SQLite cannot answer from its indexes wait for it.
        subprocess.run([sys.executable, __file__, "--index-only", "--db", str(path)],
                       check=True)


def deep_pages(path: Path, reps: int, sorts: list[str]) -> None:
    """Pages in ``sorts``' orders (energy, emissions, duration, name) far down, each the
    first request of a server just started (a new app, its index not built), ``reps``
    times each (at most 5): the median and worst, the same request again at once (its
    index still not built, as a rule), and the load average after each."""
    from fastapi.testclient import TestClient

    from wattwise.server import create_app

    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    total = conn.execute("SELECT count(*) FROM runs").fetchone()[0]
    conn.close()
    urls = [f"/api/runs?sort={sort}&order={order}&offset={offset}&limit=50"
            for sort, order in (("energy", "desc"), ("emissions", "asc"), ("duration", "desc"),
                                ("name", "desc")) if sort in sorts
            for offset in (1000, 50_000, total - 50)]
    print("\n| request (first of a server just started) | median ms | worst ms | again ms |"
          " load after |\n|---|---:|---:|---:|---|")
    for url in urls:
        times, again = [], []
        for _ in range(min(reps, 5)):
            with TestClient(create_app(path, port=8787),
                            base_url="http://127.0.0.1:8787") as c:
                for kept in (times, again):
                    t0 = time.perf_counter()
                    r = c.get(url)
                    kept.append((time.perf_counter() - t0) * 1000)
                    assert r.status_code == 200, (url, r.text[:300])
            # closing the app waits for its index's build: the next server starts alone
        print(f"| `{url}` | {statistics.median(times):.0f} | {max(times):.0f} |"
              f" {statistics.median(again):.0f} | {_load()} |")
    print(f"load average at the end: {_load()}, "
          f"{time.strftime('%Y-%m-%d %H:%M:%S', time.gmtime())} UTC")


def index_only(path: Path) -> None:
    """Build the runs index of ``path`` as a server does at start-up, with a thread that
    asks for the interpreter every millisecond: how long a request would wait on it."""
    from wattwise.server._sql import Reads

    reads = Reads(path)
    gaps: list[float] = []
    ticking = threading.Event()
    ticker = threading.Thread(target=_tick, args=(gaps, ticking))
    ticking.set()
    ticker.start()
    t0 = time.perf_counter()
    reads.index()
    t1 = time.perf_counter()
    reads.warm()
    t2 = time.perf_counter()
    ticking.clear()
    ticker.join()
    gaps.sort()
    print(f"\nthe runs index alone, in a new process: built in {t1 - t0:.1f} s, its sort "
          f"orders and sums in {t2 - t1:.1f} s more; meanwhile a thread that asked for the "
          f"interpreter every 1 ms waited at most {gaps[-1] * 1000:.1f} ms (99th percentile "
          f"{gaps[int(len(gaps) * 0.99)] * 1000:.1f} ms)")
    reads.close()


if __name__ == "__main__":
    main()
