"""Reading a long user trace: time and peak memory, bulk path against row by row.

    .venv/bin/python benchmarks/bench_traces.py            # 1-minute steps, 1M and 2.5M rows

Writes a synthetic trace (``YYYY-MM-DD HH:MM:SS,value``, 26 bytes a row) and
reads it with ``TraceSource.from_csv`` in a fresh interpreter, N times each
way, interleaved: as shipped (bulk chunks, row-by-row fallback), and with the
bulk path turned off (every row through ``parse_time``), the path every row
took before. Reports the median seconds and the peak RSS of each process.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from datetime import datetime, timedelta
from pathlib import Path

_CHILD = """
import json, resource, sys, time
from wattwise.carbon import traces
if sys.argv[2] == "rows":
    traces._fast_chunk = lambda *a: None
t = time.perf_counter()
src = traces.TraceSource.from_csv(sys.argv[1], "DE")
dt = time.perf_counter() - t
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
print(json.dumps({"s": dt, "rss": rss, "n": int(src.data.t_unix_s.size)}))
"""


def _write(path: Path, rows: int) -> None:
    t0 = datetime(2020, 1, 1)
    with open(path, "w") as fh:
        fh.write("Time,Carbon Intensity\n")
        for i in range(rows):
            stamp = (t0 + timedelta(minutes=i)).strftime("%Y-%m-%d %H:%M:%S")
            fh.write(f"{stamp},{200 + (i % 97) * 1.5}\n")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, nargs="+", default=[1_000_000, 2_500_000])
    ap.add_argument("-n", type=int, default=3)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        for rows in args.rows:
            path = Path(tmp) / f"t{rows}.csv"
            _write(path, rows)
            size = path.stat().st_size
            res: dict[str, list[dict[str, float]]] = {"bulk": [], "rows": []}
            for _ in range(args.n):
                for mode in res:
                    out = subprocess.run([sys.executable, "-c", _CHILD, str(path), mode],
                                         capture_output=True, text=True, check=True)
                    res[mode].append(json.loads(out.stdout))
            med = {m: statistics.median(r["s"] for r in v) for m, v in res.items()}
            rss = {m: max(r["rss"] for r in v) / 1e6 for m, v in res.items()}
            print(f"{rows} rows ({size / 1e6:.1f} MB): bulk {med['bulk']:.2f} s "
                  f"(peak {rss['bulk']:.0f} MB), row by row {med['rows']:.2f} s "
                  f"(peak {rss['rows']:.0f} MB), ratio {med['rows'] / med['bulk']:.2f}x")


if __name__ == "__main__":
    main()
