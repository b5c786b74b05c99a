"""Compression studies of the built-in suite, as recorded in BENCHMARKS.md, Compression.

Usage: python benchmarks/bench_compress.py [digits-mlp|minilm-embed ...] [--threads N]
       [--rounds R] [--out results.json]

For each model: the study (quality, FLOPs with the counter named, size, and the
bench harness's throughput and J/sample with 95 % intervals), then an
*interleaved* throughput pass: R rounds, each running every variant for
``--duration`` seconds in turn, so a change in machine load hits baseline and
variants alike; ratios are per round, reported as median (min-max). MiniLM
adds the int8-dynamic trade-off (fidelity vs speed per scheme) and the
per-layer sensitivity ranking; digits adds structured pruning with and
without fine-tuning at several amounts.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import time
from collections.abc import Callable
from typing import Any

from wattwise.compress import Int8Dynamic, PruneStructured, count_flops, linear_flops
from wattwise.compress.quantize import has_vnni, layer_sensitivity
from wattwise.compress.study import run_study
from wattwise.compress.suites import (
    DEFAULT_METHODS,
    MINILM_SENSITIVE,
    SUITES,
    parse_methods,
    suite_task,
)


def loadavg() -> str:
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def interleaved(steps: dict[str, Callable[[], int]], rounds: int, duration: float
                ) -> dict[str, dict[str, float]]:
    """samples/s of each step, measured round-robin; ratios to the first step per round."""
    for step in steps.values():
        step()
        step()
    rates: dict[str, list[float]] = {k: [] for k in steps}
    for _ in range(rounds):
        for label, step in steps.items():
            t0, n = time.perf_counter(), 0
            while time.perf_counter() - t0 < duration:
                n += step()
            rates[label].append(n / (time.perf_counter() - t0))
    base = next(iter(rates.values()))
    out = {}
    for label, r in rates.items():
        ratio = [a / b for a, b in zip(r, base, strict=True)]
        out[label] = {"median": statistics.median(r), "min": min(r), "max": max(r),
                      "ratio_median": statistics.median(ratio), "ratio_min": min(ratio),
                      "ratio_max": max(ratio)}
    return out


def show(rates: dict[str, dict[str, float]], quality: dict[str, float]) -> None:
    for label, r in rates.items():
        print(f"    {label:34s} q={quality.get(label, float('nan')):8.3f} "
              f"{r['median']:8.1f} samples/s ({r['min']:.0f}-{r['max']:.0f})  "
              f"x{r['ratio_median']:.2f} ({r['ratio_min']:.2f}-{r['ratio_max']:.2f})")


def study(model: str, args: Any) -> dict[str, Any]:
    task = suite_task(model, threads=args.threads)
    configs = parse_methods(DEFAULT_METHODS[model], model)
    s = run_study(task, configs, warmup=3, repetitions=args.repetitions,
                  min_duration_s=args.duration)
    print(f"\n{model} ({s.quality_name}, {s.quality_unit}), load {loadavg()}")
    base = s.baseline
    for v in s.variants:
        if v.status != "ok":
            print(f"  {v.label:30s} FAILED {v.reason}")
            continue
        b = v.bench
        lin = (base.linear_flops / v.linear_flops if base and base.linear_flops
               and v.linear_flops else float("nan"))
        print(f"  {v.label:30s} q={v.quality:7.3f} Δ={v.quality_delta:+.3f} "
              f"size={v.size_bytes / 1024:7.0f}KiB flops={v.flops} [{v.flops_counter}] "
              f"linear÷={lin:5.2f} thr={b.throughput} J/sample={b.energy_j_per_sample} "
              f"[{b.kind}]{' flow=' + v.detail if v.detail else ''}")
    rec = s.recommend(1.0)
    print(f"  front: {[v.label for v in s.front()]}; recommended (<=1 point lost): "
          f"{rec.label if rec else None}")
    models = {"baseline": task.model}
    for c in configs:
        if any(v.label == c.label and v.status == "ok" for v in s.variants):
            models[c.label] = c.apply(task.model)
    rates = interleaved({k: task.make_step(m) for k, m in models.items()}, args.rounds,
                        args.duration)
    print(f"  interleaved throughput ({args.rounds} rounds x {args.duration} s, threads "
          f"{args.threads or 'default'}), load {loadavg()}:")
    show(rates, {v.label: v.quality for v in s.variants if v.quality is not None})
    return {"study": s.to_dict(1.0), "interleaved": rates}


def minilm_int8(args: Any) -> dict[str, Any]:
    task = suite_task("minilm-embed", threads=args.threads)
    base = task.model
    ffn_out = [f"encoder.layer.{i}.output.dense" for i in range(6)]
    schemes: dict[str, Int8Dynamic] = {
        "per-tensor (torch default)": Int8Dynamic(),
        "per-channel": Int8Dynamic(per_channel=True),
        "per-channel, skip 5 sensitive": Int8Dynamic(per_channel=True, skip=MINILM_SENSITIVE),
        "per-channel, skip all FFN-out": Int8Dynamic(per_channel=True, skip=ffn_out),
    }
    if has_vnni():
        schemes["per-tensor, 8-bit act"] = Int8Dynamic(full_range=True)
        schemes["per-channel, 8-bit act"] = Int8Dynamic(per_channel=True, full_range=True)
        schemes["per-channel, 8-bit act, skip L0 FFN-out"] = Int8Dynamic(
            per_channel=True, full_range=True, skip=ffn_out[:1])
    models = {"fp32": base, **{k: c.apply(base) for k, c in schemes.items()}}
    quality = {k: task.quality(m) / 100 for k, m in models.items()}
    rates = interleaved({k: task.make_step(m) for k, m in models.items()}, args.rounds,
                        args.duration)
    print(f"\nminilm-embed int8-dynamic trade-off (fidelity; interleaved {args.rounds} x "
          f"{args.duration} s, threads {args.threads or 'default'}), load {loadavg()}:")
    show(rates, quality)
    sens = layer_sensitivity(base, lambda m: task.quality(m) / 100,
                             Int8Dynamic(per_channel=True))
    print("  fidelity lost quantizing one Linear alone (per-channel, 7-bit act), worst 8:")
    for name, loss in sens[:8]:
        print(f"    {name:40s} {loss:.5f}")
    return {"fidelity": quality, "interleaved": rates, "sensitivity": sens}


def digits_pruning() -> list[dict[str, Any]]:
    from wattwise.bench.suite.digits import digits_data, quality, reference_model

    d = digits_data()
    base = reference_model().model
    x1 = d.x_test[:1]
    f0, counter = count_flops(base, x1)
    rows = []
    print(f"\ndigits-mlp structured pruning (accuracy %, FLOPs by {counter}):")
    print(f"    baseline: {quality(base) * 100:.2f} %, {f0} FLOPs")
    for amount in (0.5, 0.75, 0.9):
        for epochs in (0, 10):
            m = PruneStructured(amount, finetune_epochs=epochs,
                                data=(d.x_train, d.y_train)).apply(base)
            f, _ = count_flops(m, x1)
            row = {"amount": amount, "finetune_epochs": epochs,
                   "accuracy": quality(m) * 100, "flops": f, "flops_ratio": f0 / f,
                   "linear_flops": linear_flops(m, x1)}
            rows.append(row)
            print(f"    {amount:.0%} +{epochs:2d} epochs: {row['accuracy']:.2f} % "
                  f"({row['accuracy'] - quality(base) * 100:+.2f}), {f} FLOPs "
                  f"({f0 / f:.2f}x fewer)")
    return rows


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("models", nargs="*", default=list(SUITES))
    ap.add_argument("--repetitions", type=int, default=3)
    ap.add_argument("--duration", type=float, default=1.0)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--out", default=None)
    args = ap.parse_args()
    date = subprocess.run(["date", "-u"], capture_output=True, text=True).stdout.strip()
    print(f"date: {date}; load {loadavg()}; threads {args.threads or 'default'}")
    out: dict[str, Any] = {"date": date, "load_start": loadavg(), "threads": args.threads}
    for model in args.models:
        out[model] = study(model, args)
        if model == "minilm-embed":
            out["minilm_int8"] = minilm_int8(args)
        if model == "digits-mlp":
            out["digits_pruning"] = digits_pruning()
    out["load_end"] = loadavg()
    print(f"\nload at the end: {out['load_end']}")
    if args.out:
        with open(args.out, "w") as f:
            json.dump(out, f, indent=2, default=str)


if __name__ == "__main__":
    main()
