"""The first view of one run's page on a dashboard just started, as a browser asks it:
``/api/runs/ID`` and ``/api/runs/ID/timeline`` at once, over the server's socket. Per
server: ``wattwise dashboard --db DB --port P`` started, its runs index left to build
(``--settle`` seconds after it first answers ``/``, or the runs list with
``--from-list``), then the two requests sent together and
each timed, then the same pair again. Prints seconds, the machine and the load.

    .venv/bin/python benchmarks/bench_run_page.py DB RUN_ID [--servers 3] [--settle 20]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import threading
import time
import urllib.request

from _machine import cpu_model, loadavg  # this folder is on the path when run as a script


def _get(url: str, out: dict[str, float], key: str) -> None:
    t0 = time.perf_counter()
    with urllib.request.urlopen(url, timeout=300) as got:
        got.read()
        if got.status != 200:
            raise RuntimeError(f"{url}: {got.status}")
    out[key] = time.perf_counter() - t0


def _pair(base: str, run_id: int) -> dict[str, float]:
    out: dict[str, float] = {}
    t0 = time.perf_counter()
    threads = [threading.Thread(target=_get, args=(f"{base}/api/runs/{run_id}", out, "run")),
               threading.Thread(target=_get, args=(f"{base}/api/runs/{run_id}/timeline", out,
                                                   "timeline"))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    out["page"] = time.perf_counter() - t0
    return out


def _serve(db: str, port: int, probe: str) -> subprocess.Popen[bytes]:
    cmd = [sys.executable, "-m", "wattwise", "dashboard", "--db", db, "--port", str(port)]
    server = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              env={**os.environ})
    until = time.monotonic() + 120
    while time.monotonic() < until:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}{probe}", timeout=5):
                return server
        except OSError:
            time.sleep(0.2)
    server.kill()
    raise RuntimeError("the dashboard did not answer in 120 s")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("db")
    ap.add_argument("run_id", type=int)
    ap.add_argument("--servers", type=int, default=3)
    ap.add_argument("--settle", type=float, default=20.0)
    ap.add_argument("--port", type=int, default=18931)
    ap.add_argument("--from-list", action="store_true",
                    help="open the runs list first (its rows' figures and notes are then"
                         " read in the background), as a user who clicks the run does;"
                         " else the run's address is the first asked (a bookmark)")
    args = ap.parse_args()
    print(f"machine: {cpu_model()}, {os.cpu_count()} CPUs; load {loadavg()}")
    for k in range(args.servers):
        server = _serve(args.db, args.port, "/api/runs" if args.from_list else "/")
        try:
            time.sleep(args.settle)
            base = f"http://127.0.0.1:{args.port}"
            first, again = _pair(base, args.run_id), _pair(base, args.run_id)
            print(f"server {k + 1}: first run {first['run']:.3f} s, timeline "
                  f"{first['timeline']:.3f} s, page {first['page']:.3f} s; again page "
                  f"{again['page']:.3f} s; load {loadavg()}")
        finally:
            server.terminate()
            server.wait(30)


if __name__ == "__main__":
    main()
