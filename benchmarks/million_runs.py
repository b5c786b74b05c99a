"""Two databases of one run of 1,000,000 samples over 4 domains, for the timeline's and
the run page's first view (``bench_timeline.py``): ``PATH`` as ``bench_dashboard.build``
writes it (9 small runs, then run 11 finished with an empty summary: its stored total is
not usable, so every output prices it again from its samples), and ``PATH.summed.db``,
whose run 11 holds a summary of its samples' own sums, as a finished run's does.

    PYTHONPATH=src .venv/bin/python benchmarks/million_runs.py /tmp/m.db
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_dashboard import build


def summed(path: Path, rid: int) -> None:
    """Give run ``rid`` a summary of its samples' sums, priced at 380 g/kWh (DE's yearly
    average in the bench's other runs)."""
    conn = sqlite3.connect(path)
    rows = conn.execute("SELECT domain, total(energy_j) FROM samples WHERE run_id = ?"
                        " GROUP BY domain", (rid,)).fetchall()
    start, end = conn.execute("SELECT started_unix_s, ended_unix_s FROM runs WHERE id = ?",
                              (rid,)).fetchone()
    e, dur = sum(r[1] for r in rows), end - start
    g = e / 3.6e6 * 380.0
    summary = {"energy_j": e, "low_j": e, "high_j": e, "kind": "measured", "duration_s": dur,
               "domains": [{"domain": d, "kind": "measured", "source": "nvml", "energy_j": x,
                            "low_j": x, "high_j": x, "avg_power_w": x / dur, "in_total": True}
                           for d, x in rows],
               "notes": [],
               "emissions": {"emissions_g": g, "low_g": g, "high_g": g, "zone": "DE",
                             "source": "yearly average", "pue": 1.0,
                             "avg_intensity_g_per_kwh": 380.0,
                             "intensity_used": [[start, end, 380.0]]}}
    with conn:
        conn.execute("UPDATE runs SET summary_json = ? WHERE id = ?", (json.dumps(summary), rid))
    conn.close()


if __name__ == "__main__":
    out = Path(sys.argv[1])
    out.unlink(missing_ok=True)
    rid = build(out, 10, 1_000_000)
    copy = out.with_suffix(".summed.db")
    shutil.copyfile(out, copy)
    summed(copy, rid)
    print(f"run {rid}: {out} (empty summary), {copy} (summed)")
