"""What the note on holes in a run's sampling costs every output (``show``, ``report``,
``runs --json``, the API, the exports: ``records.sample_holes.hole_notes``), on runs of a
million samples: one sampled without a hole (probed through the samples' index only) and
one whose recorder stopped for 600 s (summed into buckets as the run page's timeline).

    .venv/bin/python benchmarks/bench_hole_notes.py                  # 1,000,000 samples
    .venv/bin/python benchmarks/bench_hole_notes.py --samples 200000 --reps 5

Two measured domains sampled every 0.05 s, inserted through SQLite after the schema is
made through ``Store``. Times ``hole_notes`` and the whole ``run_notes`` (the first call,
then the median of ``--reps`` more).
"""

from __future__ import annotations

import argparse
import platform
import random
import statistics
import tempfile
import time
from pathlib import Path

from wattwise.records.run_notes import run_notes
from wattwise.records.sample_holes import hole_notes
from wattwise.records.store import SampleRow, Store

START = 1.8e9
DOMAINS = ("cpu:0", "memory:0")


def build(path: Path, samples: int, hole_s: float) -> int:
    """A finished run of ``samples`` samples over two domains, one hole of ``hole_s``."""
    rng = random.Random(0)
    per = samples // len(DOMAINS)
    with Store(path) as store:
        rid = store.create_run(
            name=f"hole-{hole_s:g}", started_unix_s=START, host={"hostname": "bench"},
            hardware={}, versions={}, sensors=[{"name": "meter", "domains": [
                {"name": d, "kind": "measured", "source": "meter"} for d in DOMAINS]}])
        t, chunk = START, []
        for i in range(1, per + 1):
            dt = 0.05 + (hole_s if i == per // 2 else 0.0)
            t += dt
            for d in DOMAINS:
                e = (4.0 + rng.random()) * dt
                chunk.append(SampleRow(t, d, e, e / dt, e, e))
            if len(chunk) >= 40_000:
                store.add_samples(rid, chunk)
                chunk = []
        if chunk:
            store.add_samples(rid, chunk)
        store.finish_run(rid, ended_unix_s=t, status="finished", summary={})
    return int(rid)


def timed(fn: object, reps: int) -> tuple[float, float]:
    """The first call's time and the median of ``reps`` more, ms."""
    out = []
    for _ in range(reps + 1):
        t = time.perf_counter()
        fn()  # type: ignore[operator]
        out.append((time.perf_counter() - t) * 1000)
    return out[0], statistics.median(out[1:])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--samples", type=int, default=1_000_000)
    ap.add_argument("--reps", type=int, default=3)
    args = ap.parse_args()
    print(f"{platform.processor() or platform.machine()}, python {platform.python_version()}")
    with tempfile.TemporaryDirectory() as tmp:
        for hole in (0.0, 600.0):
            db = Path(tmp) / f"h{hole:g}.db"
            rid = build(db, args.samples, hole)
            with Store(db) as store:
                rec = store.get_run(rid)
                said = hole_notes(store, rec)
                first, med = timed(lambda: hole_notes(store, rec), args.reps)  # noqa: B023
                nfirst, nmed = timed(lambda: run_notes(store, rec), args.reps)  # noqa: B023
            print(f"{args.samples:,} samples, hole {hole:g} s: hole_notes {first:.0f} ms "
                  f"first, {med:.0f} ms median; run_notes {nfirst:.0f} / {nmed:.0f} ms; "
                  f"{said}")


if __name__ == "__main__":
    main()
