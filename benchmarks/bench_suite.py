"""Benchmark the built-in suite and print a Markdown table for BENCHMARKS.md.

    .venv/bin/python benchmarks/bench_suite.py [--repetitions 5] [--duration 2]

Runs are kept out of the user's run records (a temporary database).
"""

from __future__ import annotations

import argparse
import datetime as dt
import platform
import tempfile
from pathlib import Path

from wattwise.bench import benchmark, get_entry
from wattwise.bench.suite import SUITE


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repetitions", type=int, default=5)
    ap.add_argument("--duration", type=float, default=2.0)
    ap.add_argument("--idle-baseline", action="store_true")
    ap.add_argument("entries", nargs="*", default=list(SUITE))
    args = ap.parse_args()
    print(f"date: {dt.datetime.now().isoformat(timespec='seconds')}; python "
          f"{platform.python_version()}")
    print("| entry | batch | samples/s (95% CI) | J/sample (95% CI) | kind | p50 ms | p99 ms "
          "| avg W | quality |")
    print("|---|---|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "bench.db"
        for name in args.entries:
            e = get_entry(name)
            b = e.default_batch_size
            step = e.make_step(b)
            r = benchmark(step, name=name, task=e.task, repetitions=args.repetitions,
                          min_duration_s=args.duration, idle_baseline=args.idle_baseline,
                          db=db)
            q = e.metrics(e.load())
            t, j = r.throughput, r.energy_j_per_sample
            print(f"| {name} | {b} | {t.mean:.4g} ({t.low:.4g}-{t.high:.4g}) | "
                  f"{j.mean:.4g} ({j.low:.4g}-{j.high:.4g}) | {r.kind} | "
                  f"{r.latency_ms['p50']:.3g} | {r.latency_ms['p99']:.3g} | "
                  f"{r.avg_power_w or 0:.3g} | "
                  + ", ".join(f"{k} {v:.4f}" for k, v in q.items()) + " |")
            print(f"<!-- {name}: machine {r.machine}; source {r.source}; baseline "
                  f"{r.baseline_w}; notes {list(r.notes)} -->")


if __name__ == "__main__":
    main()
