"""How long `wattwise dashboard` takes to exit on SIGINT (Ctrl-C) a few seconds after its
start, and whether it exits cleanly (exit code 130, no traceback, no crash). One
dashboard per delay; prints one line each.

    .venv/bin/python benchmarks/bench_dashboard_stop.py RUNS.db [DELAY_S ...]
        [--during PATH] [--cold]

By default a runs-list request is answered first (as a browser opening the page asks),
while the runs index is still being built. ``--during PATH`` asks PATH instead and sends
the signal while it is in flight (DELAY_S after the server listens): a first
``/api/runs/ID/timeline`` of a million samples, a first ``/metrics`` scrape. ``--cold``
drops the file from the page cache first (``posix_fadvise``), so a signal DELAY_S after
the start meets the open-time check of the whole file.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request


def _evict(path: str) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    finally:
        os.close(fd)


def _listening(port: int, within_s: float = 120.0) -> bool:
    until = time.monotonic() + within_s
    while time.monotonic() < until:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/favicon.svg", timeout=1).read()
            return True
        except OSError:
            time.sleep(0.05)
    return False


def _ask(url: str, got: dict[str, object]) -> None:
    t0 = time.monotonic()
    try:
        urllib.request.urlopen(url, timeout=300).read()
        got["status"] = 200
    except urllib.error.HTTPError as exc:
        got["status"] = exc.code
    except OSError as exc:
        got["status"] = type(exc).__name__
    got["after_s"] = time.monotonic() - t0


def stop_after(db: str, delay_s: float, during: str | None = None, cold: bool = False) -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    if cold:
        _evict(db)
    child = subprocess.Popen(
        [sys.executable, "-X", "faulthandler", "-m", "wattwise", "dashboard", "--db", db,
         "--port", str(port)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    got: dict[str, object] = {}
    asking = None
    if during is not None:
        if not _listening(port):
            child.kill()
            return f"delay {delay_s:g} s: the dashboard never listened"
        asking = threading.Thread(target=_ask, args=(f"http://127.0.0.1:{port}{during}", got))
        asking.start()
        time.sleep(delay_s)
        asked = f"{during} in flight"
    else:
        time.sleep(delay_s)
        try:  # a runs-list request first, as a browser opening the page asks
            urllib.request.urlopen(f"http://127.0.0.1:{port}/api/runs", timeout=30).read()
            asked = "listed"
        except OSError:
            asked = "not listening yet"
    t0 = time.monotonic()
    child.send_signal(signal.SIGINT)
    _out, err = child.communicate(timeout=300)
    took = time.monotonic() - t0
    if asking is not None:
        asking.join(timeout=60)
        asked += f" (answered {got.get('status')} after {got.get('after_s', 0):.2f} s)"
    return (f"delay {delay_s:g} s ({asked}): exit {child.returncode} after {took:.2f} s, "
            f"traceback {'Traceback' in err}, crash {'Fatal Python error' in err}")


if __name__ == "__main__":
    args = sys.argv[2:]
    during = None
    if "--during" in args:
        at = args.index("--during")
        during = args[at + 1]
        del args[at:at + 2]
    cold = "--cold" in args
    delays = [float(x) for x in args if x != "--cold"] or [3.5, 4.0, 4.5, 5.0, 8.0]
    for delay in delays:
        print(stop_after(sys.argv[1], delay, during, cold), flush=True)
