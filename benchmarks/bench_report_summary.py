"""``report --html``, ``show`` and ``export -f codecarbon`` of one finished run of a million
samples with a summary, priced from sums taken inside SQLite (``carbon.summary_sums``).

    .venv/bin/python benchmarks/bench_report_summary.py                 # 1,000,000 samples
    .venv/bin/python benchmarks/bench_report_summary.py --samples 200000

Builds the database as ``bench_dashboard.build`` does (a run of ``--samples`` samples over
4 domains, 0.1 s apart), gives the run a summary whose measured window cuts its first and
last samples, and times each command in a fresh process on a copy of the file: seconds
and the child's largest resident set (GNU
time, `/usr/bin/time`). ``report --html`` is timed as recorded (the world's
yearly average) and with a trace of 15-minute steps; ``show`` and the export of the same
run with its stored total damaged (text), which every output prices again from its
samples as ``report`` does.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from contextlib import closing
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from benchmarks.bench_dashboard import build


def summarised(path: Path, samples: int) -> int:
    """The database with one run of ``samples`` samples and a summary; the run's id."""
    rid = build(path, runs=2, samples=samples)
    with closing(sqlite3.connect(path)) as conn, conn:  # closed: the copies hold it all
        rows = conn.execute("SELECT domain, sum(energy_j) FROM samples WHERE run_id = ?"
                            " GROUP BY domain", (rid,)).fetchall()
        total = sum(e for _, e in rows)
        t0, t1 = 1.8e9 + 0.05, 1.8e9 + samples // 4 * 0.1 - 0.05
        summary = {"kind": "measured", "energy_j": total, "low_j": total * 0.95,
                   "high_j": total * 1.05, "start_unix_s": t0, "end_unix_s": t1,
                   "duration_s": t1 - t0,
                   "domains": [{"domain": d, "kind": "measured", "source": "nvml",
                                "energy_j": e, "low_j": e * 0.95, "high_j": e * 1.05,
                                "avg_power_w": e / (t1 - t0), "in_total": True}
                               for d, e in rows]}
        conn.execute("UPDATE runs SET summary_json = ? WHERE id = ?", (json.dumps(summary), rid))
    return rid


def damaged(src: Path, dst: Path, rid: int) -> None:
    """A copy whose stored total is text, with emissions priced from it."""
    shutil.copy(src, dst)
    with closing(sqlite3.connect(dst)) as conn, conn:
        (raw,) = conn.execute("SELECT summary_json FROM runs WHERE id = ?", (rid,)).fetchone()
        summary = json.loads(raw)
        summary["energy_j"] = "lots"
        summary["emissions"] = {"emissions_g": 1.0, "zone": "DE", "source": "yearly average"}
        conn.execute("UPDATE runs SET summary_json = ? WHERE id = ?", (json.dumps(summary), rid))


def timed(db: Path, args: list[str], tmp: Path) -> tuple[float, int]:
    """Seconds and largest resident set (kB) of ``wattwise ARGS --db COPY`` in a child, as
    GNU time gives them (a child's ``ru_maxrss`` from ``wait4`` starts at this process's
    size, which building the database grew)."""
    copy, said = tmp / "copy.db", tmp / "time.txt"
    shutil.copy(db, copy)
    done = subprocess.run(["/usr/bin/time", "-o", str(said), "-f", "%e %M", sys.executable,
                           "-m", "wattwise", *args, "--db", str(copy)],
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    if done.returncode != 0:
        raise SystemExit(f"wattwise {' '.join(args)} failed")
    seconds, rss = said.read_text(encoding="utf-8").split()[-2:]
    copy.unlink()
    return float(seconds), int(rss)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=1_000_000)
    a = parser.parse_args()
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        db = tmp / "runs.db"
        rid = summarised(db, a.samples)
        trace = tmp / "de.csv"
        trace.write_text("Time,Carbon Intensity\n" + "".join(
            time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(1.8e9 - 3600 + 900 * i))
            + f",{200 + 37 * (i % 5)}\n" for i in range(a.samples // 36_000 + 8)),
            encoding="utf-8")
        bad = tmp / "damaged.db"
        damaged(db, bad, rid)
        page = str(tmp / "run.html")
        print(f"{a.samples:,} samples, load average {os.getloadavg()[0]:.2f}")
        for name, path, args in (
            ("report --html", db, ["report", str(rid), "--html", page]),
            ("report --html, 15-min trace", db, ["report", str(rid), "--zone", "DE",
                                                 "--intensity-trace", str(trace),
                                                 "--html", page]),
            ("show (damaged total)", bad, ["show", str(rid)]),
            ("export -f codecarbon (damaged total)", bad,
             ["export", str(rid), "-f", "codecarbon", "-o", str(tmp / "cc.csv")]),
        ):
            seconds, rss = timed(path, args, tmp)
            print(f"{name}: {seconds:.2f} s, max RSS {rss:,} kB")
        print(f"load average {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
