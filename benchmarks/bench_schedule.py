"""Scheduling benchmarks: planner speed, MILP limits, and a year of simulated savings.

    .venv/bin/python benchmarks/bench_schedule.py [--quick]

Prints markdown tables for BENCHMARKS.md. Timings are wall-clock on this machine.
"""

from __future__ import annotations

import argparse
import time
from datetime import datetime, timezone

import numpy as np

from wattwise.carbon.traces import TraceSource
from wattwise.errors import BadInput
from wattwise.schedule import Job, plan
from wattwise.schedule import scenarios as sc
from wattwise.schedule.simulate import simulate

Y0 = datetime(2020, 1, 1, tzinfo=timezone.utc).timestamp()
Y1 = datetime(2021, 1, 1, tzinfo=timezone.utc).timestamp()


def batch(n: int, rng: np.random.Generator, span_s: float) -> list[Job]:
    jobs = []
    for i in range(n):
        e = Y0 + float(rng.integers(0, int(span_s // 1800))) * 1800.0
        d = float(rng.integers(1, 9)) * 1800.0
        w = float(rng.integers(4, 25)) * 3600.0
        jobs.append(Job(f"j{i}", d, e, e + d + w, zones=("GB",)))
    return jobs


def mixed(n: int, rng: np.random.Generator, span_s: float, share: float = 0.3) -> list[Job]:
    """``batch`` with a ``share`` of interruptible jobs: half of them free to split into
    30-min slots, half with a 1-h minimum chunk and a 30-min resume cost."""
    jobs = batch(n, rng, span_s)
    out = []
    for j in jobs:
        if rng.random() < share:
            chunked = rng.random() < 0.5
            j = Job(j.name, j.duration_s, j.earliest_start_unix_s, j.deadline_unix_s,
                    interruptible=True, min_chunk_s=3600.0 if chunked else 0.0,
                    resume_cost_s=1800.0 if chunked else 0.0, zones=j.zones)
        out.append(j)
    return out


def perf_interruptible(quick: bool) -> None:
    from wattwise.schedule import capacity
    from wattwise.schedule.planner import Grid

    s = TraceSource.for_zone("GB").full_series
    grids = {"GB": Grid(s)}
    print("| jobs (30 % interruptible) | capacity | method | plan s | "
          "expected vs run-immediately | gap % |")
    print("|---|---|---|---|---|---|")
    jobs = mixed(10_000, np.random.default_rng(1), Y1 - Y0 - 2 * 86400)
    for cap, method in [(None, "exact"), (8, "greedy")]:
        t = time.perf_counter()
        p = plan(jobs, s, capacity=None if cap is None else {"GB": cap}, method=method)
        dt = time.perf_counter() - t
        print(f"| {len(jobs)} | {cap or '-'} | {p.method} | {dt:.2f} | -{p.saving_pct:.1f} % | "
              f"{p.gap_pct:.2f} (vs capacity-free bound) |", flush=True)
    print()
    print("| jobs (30 % interruptible) | MILP vars | milp s | greedy s | greedy above milp |")
    print("|---|---|---|---|---|")
    for n in ([25, 50] if quick else [25, 50, 100, 200, 400]):
        jobs = mixed(n, np.random.default_rng(100 + n), 14 * 86400 * n / 200)
        cap = {"GB": max(2, n // 40)}
        nv = capacity.n_variables([capacity.options(j, grids) for j in jobs])
        try:
            g = plan(jobs, s, capacity=cap, method="greedy")
            gs = f"{g.solve_s:.2f}"
        except BadInput:
            g, gs = None, "no fit"
        t = time.perf_counter()
        try:
            m = plan(jobs, s, capacity=cap, method="milp", time_limit_s=120)
            ms = f"{time.perf_counter() - t:.2f}" + (f" (MIP gap {m.gap_pct:.2f} %)"
                                                      if m.gap_pct > 0.01 else "")
            ratio = "-" if g is None else \
                f"{100 * (g.expected_g - m.expected_g) / m.expected_g:.2f} %"
        except BadInput as exc:
            ms, ratio = f"failed ({exc})"[:60], "-"
        print(f"| {n} | {nv} | {ms} | {gs} | {ratio} |", flush=True)


def perf(quick: bool) -> None:
    s = TraceSource.for_zone("GB").full_series
    rng = np.random.default_rng(0)
    print("| jobs | capacity | method | plan s | expected vs run-immediately | gap % |")
    print("|---|---|---|---|---|---|")
    for n, cap, method in [(10_000, None, "exact"), (10_000, 8, "greedy")]:
        jobs = batch(n, rng, Y1 - Y0 - 2 * 86400)
        t = time.perf_counter()
        p = plan(jobs, s, capacity=None if cap is None else {"GB": cap}, method=method)
        dt = time.perf_counter() - t
        print(f"| {n} | {cap or '-'} | {p.method} | {dt:.2f} | -{p.saving_pct:.1f} % | "
              f"{p.gap_pct:.2f} (vs capacity-free bound) |")
    print()
    print("| jobs | 0/1 vars | milp s | greedy s | greedy above milp |")
    print("|---|---|---|---|---|")
    for n in ([50, 200] if quick else [50, 200, 500, 1000, 2000]):
        jobs = batch(n, np.random.default_rng(n), 14 * 86400)
        cap = {"GB": max(3, n // 40)}
        g = plan(jobs, s, capacity=cap, method="greedy")
        t = time.perf_counter()
        try:
            m = plan(jobs, s, capacity=cap, method="milp", time_limit_s=120)
            ms, ratio = f"{time.perf_counter() - t:.2f}", \
                f"{100 * (g.expected_g - m.expected_g) / m.expected_g:.2f} %"
        except BadInput as exc:
            ms, ratio = f"failed ({exc})"[:60], "-"
        from wattwise.schedule.planner import Grid
        nv = sum(Grid(s).starts(j).size for j in jobs)
        print(f"| {n} | {nv} | {ms} | {g.solve_s:.2f} | {ratio} |")


def sims(quick: bool) -> None:
    print("| zone | scenario | noise | jobs | saving (seasonal) | optimum saving | "
          "realised | perfect forecast |")
    print("|---|---|---|---|---|---|---|---|")
    for z in ("DE", "GB", "FR"):
        s = TraceSource.for_zone(z).full_series
        scens = sc.builtin(z, Y0, Y1, (1, 4, 12) if quick else (1, 2, 4, 8, 12))
        for scen in scens:
            perfect = simulate(scen, s, forecaster="perfect")
            for noise in (0, 5, 10):
                r = simulate(scen, s, forecaster="seasonal", noise_pct=noise, seed=0)
                print(f"| {z} | {scen.name} | {noise} % | {r.n_jobs} | {r.saving_pct:.1f} % | "
                      f"{r.optimum_saving_pct:.1f} % | {r.realised_pct:.0f} % | "
                      f"{perfect.saving_pct:.1f} % |", flush=True)


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    perf(args.quick)
    print()
    perf_interruptible(args.quick)
    print()
    sims(args.quick)
