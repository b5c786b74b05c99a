"""Compression studies of the built-in suite, as recorded in BENCHMARKS-compress.md.

Usage: python benchmarks/bench_compress.py [digits-mlp|minilm-embed ...] [--out results.json]

Each study benchmarks the uncompressed model and every default method with the
bench harness (warm-up, 5 repetitions of at least 2 s) and prints quality,
Linear FLOPs, throughput and J/sample with their 95 % intervals.
"""

from __future__ import annotations

import argparse
import json
import platform
import time

from wattwise.compress.study import run_study
from wattwise.compress.suites import DEFAULT_METHODS, SUITES, parse_methods, suite_task


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("models", nargs="*", default=list(SUITES))
    ap.add_argument("--repetitions", type=int, default=5)
    ap.add_argument("--duration", type=float, default=2.0)
    ap.add_argument("--out", default=None)
    args = ap.parse_args()
    out = {"date": time.strftime("%Y-%m-%d"), "machine": platform.processor(), "studies": []}
    for model in args.models:
        task = suite_task(model)
        study = run_study(task, parse_methods(DEFAULT_METHODS[model], model), warmup=3,
                          repetitions=args.repetitions, min_duration_s=args.duration)
        base = study.baseline
        print(f"\n{model} ({study.quality_name}, {study.quality_unit})")
        for v in study.variants:
            if v.status != "ok":
                print(f"  {v.label:26s} FAILED {v.reason}")
                continue
            b = v.bench
            speed = b.throughput.mean / base.bench.throughput.mean if base else float("nan")
            flops = base.flops / v.flops if base and base.flops and v.flops else float("nan")
            print(f"  {v.label:26s} q={v.quality:7.3f} Δ={v.quality_delta:+.3f} "
                  f"size={v.size_bytes / 1024:8.0f}KiB flops/x={flops:5.2f} "
                  f"thr={b.throughput} ({speed:.2f}x) p50={b.latency_ms['p50']:.3g}ms "
                  f"J/sample={b.energy_j_per_sample} [{b.kind}]")
        rec = study.recommend(1.0)
        print(f"  front: {[v.label for v in study.front()]}; recommended (<=1 point lost): "
              f"{rec.label if rec else None}")
        out["studies"].append(study.to_dict(1.0))
    if args.out:
        with open(args.out, "w") as f:
            json.dump(out, f, indent=2)


if __name__ == "__main__":
    main()
