"""How long `wattwise dashboard` takes to exit on SIGINT (Ctrl-C) a few seconds after its
start, while its runs index is still being built, and whether it exits cleanly (exit
code 130, no traceback, no crash). One dashboard per delay; prints one line each.

    .venv/bin/python benchmarks/bench_dashboard_stop.py RUNS.db [DELAY_S ...]
"""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
import urllib.request


def stop_after(db: str, delay_s: float) -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    child = subprocess.Popen(
        [sys.executable, "-X", "faulthandler", "-m", "wattwise", "dashboard", "--db", db,
         "--port", str(port)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(delay_s)
    try:  # a runs-list request first, as a browser opening the page asks
        urllib.request.urlopen(f"http://127.0.0.1:{port}/api/runs", timeout=30).read()
        asked = "listed"
    except OSError:
        asked = "not listening yet"
    t0 = time.monotonic()
    child.send_signal(signal.SIGINT)
    _out, err = child.communicate(timeout=120)
    return (f"delay {delay_s:g} s ({asked}): exit {child.returncode} after "
            f"{time.monotonic() - t0:.2f} s, traceback {'Traceback' in err}, "
            f"crash {'Fatal Python error' in err}")


if __name__ == "__main__":
    for delay in [float(x) for x in sys.argv[2:]] or [3.5, 4.0, 4.5, 5.0, 8.0]:
        print(stop_after(sys.argv[1], delay), flush=True)
