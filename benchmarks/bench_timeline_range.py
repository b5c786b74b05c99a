"""What a zoom's stretch of a long run's timeline costs beside the whole run's: a run of
SAMPLES samples (two domains every 0.1 s, made here), one dashboard app, the whole
timeline asked first (as the run page asks it; its buckets are then kept), then stretches
of a thousandth, a hundredth, a tenth and a third of the run (the widest a zoom asks for:
under 200 of the whole run's 600 points in view) at three places each, each asked once (a
new zoom) and again. Prints each time and the ratio of a stretch's median to the whole
timeline's first ask.

    PYTHONPATH=src .venv/bin/python benchmarks/bench_timeline_range.py [SAMPLES]
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

from starlette.testclient import TestClient

from wattwise.records.store import SampleRow, Store
from wattwise.server import create_app

START = 1.8e9
#: The stretches asked for, as parts of the run.
PARTS = (1000, 100, 10, 3)


def make(db: Path, samples: int) -> tuple[int, float]:
    """A finished run of ``samples`` samples, cpu:0 and gpu:0 every 0.1 s; its length."""
    per = samples // 2
    with Store(db) as store:
        rid = store.create_run(
            name="long", started_unix_s=START, host={"hostname": "b"}, hardware={},
            versions={}, sensors=[{"name": "m", "domains": [
                {"name": n, "kind": "measured", "source": "m", "in_total": True}
                for n in ("cpu:0", "gpu:0")]}])
        for lo in range(1, per + 1, 100_000):
            rows = [SampleRow(START + 0.1 * k, n, 0.1 * w, w, 0.1 * w, 0.1 * w)
                    for k in range(lo, min(per, lo + 99_999) + 1)
                    for n, w in (("cpu:0", 10.0 + k % 7), ("gpu:0", 100.0))]
            store.add_samples(rid, rows)
        store.finish_run(rid, ended_unix_s=START + 0.1 * per, status="finished")
    return int(rid), 0.1 * per


def timed(client: TestClient, url: str) -> float:
    t0 = time.perf_counter()
    got = client.get(url)
    took = time.perf_counter() - t0
    if got.status_code != 200:
        raise SystemExit(f"{url}: {got.status_code} {got.text[:200]}")
    return took


if __name__ == "__main__":
    samples = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "runs.db"
        rid, length = make(db, samples)
        with TestClient(create_app(db), base_url="http://127.0.0.1") as c:
            whole = timed(c, f"/api/runs/{rid}/timeline")
            kept = timed(c, f"/api/runs/{rid}/timeline")
            asked: dict[int, tuple[list[float], list[float]]] = {}
            for part in PARTS:  # 1/3: the widest a zoom asks for (under 200 of 600 points)
                first, again = asked.setdefault(part, ([], []))
                for at in (0.1, 0.5, 0.6):
                    a = at * length
                    url = f"/api/runs/{rid}/timeline?from_s={a}&span_s={length / part}"
                    first.append(timed(c, url))
                    again.append(timed(c, url))
    print(f"{samples:,} samples over {length:,.0f} s; whole timeline first {whole * 1e3:.1f}"
          f" ms, kept {kept * 1e3:.1f} ms")
    for part, (first, again) in asked.items():
        print(f"stretch of 1/{part}, first:", " ".join(f"{t * 1e3:.1f}" for t in first),
              "ms; again:", " ".join(f"{t * 1e3:.1f}" for t in again), "ms;",
              f"median first / whole first: {statistics.median(first) / whole:.4f}")
