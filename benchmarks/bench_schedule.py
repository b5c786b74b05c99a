"""Scheduling benchmarks: planner speed, greedy against the MILP, the rule's calibration.

    .venv/bin/python benchmarks/bench_schedule.py [--quick] [--only speed,greedy,milp,calibrate]

Prints markdown tables for BENCHMARKS.md. Timings are wall-clock on this machine;
every comparison is a ratio of two timings taken in the same run, interleaved.
The year of simulated savings is measured with the CLI (``wattwise simulate``),
see BENCHMARKS.md for the command.
"""

from __future__ import annotations

import argparse
import time
from datetime import datetime, timezone

import numpy as np

from wattwise.carbon.sources import IntensitySeries
from wattwise.carbon.traces import TraceSource
from wattwise.errors import BadInput
from wattwise.schedule import Job, plan
from wattwise.schedule.planner import Grid

Y0 = datetime(2020, 1, 1, tzinfo=timezone.utc).timestamp()
Y1 = datetime(2021, 1, 1, tzinfo=timezone.utc).timestamp()
Q2 = datetime(2020, 4, 1, tzinfo=timezone.utc).timestamp()
H = 3600.0


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
    out = []
    for j in batch(n, rng, span_s):
        if rng.random() < share:
            chunked = rng.random() < 0.5
            j = Job(j.name, j.duration_s, j.earliest_start_unix_s, j.deadline_unix_s,
                    interruptible=True, min_chunk_s=3600.0 if chunked else 0.0,
                    resume_cost_s=1800.0 if chunked else 0.0, zones=j.zones)
        out.append(j)
    return out


def plain_loop(jobs: list[Job], grid: Grid) -> float:
    """The cheapest uninterrupted start of each job, one job at a time: what planning
    without capacity must beat."""
    total = 0.0
    for j in jobs:
        s = grid.starts(j)
        g = grid.grams(s, s + j.duration_s, j.power_w)
        total += float(g[int(np.argmin(g))])
    return total


def speed(quick: bool) -> None:
    s = TraceSource.for_zone("GB").full_series
    jobs = batch(10_000, np.random.default_rng(0), Y1 - Y0 - 2 * 86400)
    grid = Grid(s)
    loops, plans = [], []
    for _ in range(1 if quick else 3):
        t = time.perf_counter()
        want = plain_loop(jobs, grid)
        loops.append(time.perf_counter() - t)
        t = time.perf_counter()
        p = plan(jobs, s, min_saving_pct=0)
        plans.append(time.perf_counter() - t)
        assert abs(p.lower_bound_g - want) < 1e-6 * want
    print("| 10,000 jobs, GB 2020, no capacity | seconds (median of runs) |")
    print("|---|---|")
    print(f"| plain Python loop over the jobs (`Grid.starts` + `Grid.grams` + argmin) | "
          f"{np.median(loops):.2f} |")
    print(f"| `plan()` (validation, tie rule, assignments) | {np.median(plans):.2f} |")
    each = ", ".join(f"{b / a:.2f}" for a, b in zip(loops, plans, strict=True))
    print(f"| ratio plan / loop (each run: {each}) | "
          f"**{np.median(np.array(plans) / np.array(loops)):.2f}** |")
    print()
    print("| jobs | capacity | method | plan s | expected vs run-immediately | gap % |")
    print("|---|---|---|---|---|---|")
    for label, js in (("10000", jobs),
                      ("10000 (30 % interruptible)", mixed(10_000, np.random.default_rng(1),
                                                          Y1 - Y0 - 2 * 86400))):
        for cap, method in [(None, "exact"), (8, "greedy")]:
            t = time.perf_counter()
            p = plan(js, s, capacity=None if cap is None else {"GB": cap}, method=method)
            dt = time.perf_counter() - t
            print(f"| {label} | {cap or '-'} | {p.method} | {dt:.2f} | -{p.saving_pct:.1f} % | "
                  f"{p.gap_pct:.2f} (vs capacity-free bound) |", flush=True)


def small_case(rng: np.random.Generator) -> tuple[list[Job], IntensitySeries, int]:
    """3-10 jobs (a third interruptible with random minimum chunk and resume cost, some
    taking two units) with windows of 0-5 spare hours on 8-24 hourly slots, capacity 1-3."""
    n = int(rng.integers(8, 25))
    s = IntensitySeries(H * np.arange(n), rng.uniform(50, 400, n), "XX", "t", "forecast", H)
    jobs = []
    for i in range(int(rng.integers(3, 11))):
        k = int(rng.integers(1, 4))
        e = int(rng.integers(0, n - k))
        dl = min(n, e + k + int(rng.integers(0, 6)))
        res = int(rng.integers(1, 3))
        if rng.random() < 0.3:
            jobs.append(Job(f"j{i}", k * H, e * H, dl * H, interruptible=True,
                            min_chunk_s=float(rng.integers(0, 3)) * H,
                            resume_cost_s=float(rng.integers(0, 2)) * H, resources=res))
        else:
            jobs.append(Job(f"j{i}", k * H, e * H, dl * H, resources=res))
    return jobs, s, int(rng.integers(1, 4))


def greedy_small(quick: bool) -> None:
    rng = np.random.default_rng(0)
    n_cases = 150 if quick else 600
    feasible = failed = optimal = 0
    gaps: list[float] = []
    t_milp = t_greedy = 0.0
    for _ in range(n_cases):
        jobs, s, cap = small_case(rng)
        t = time.perf_counter()
        try:
            m = plan(jobs, s, capacity={"XX": cap}, method="milp", min_saving_pct=0)
        except BadInput:
            continue
        t_milp += time.perf_counter() - t
        feasible += 1
        t = time.perf_counter()
        try:
            g = plan(jobs, s, capacity={"XX": cap}, method="greedy", min_saving_pct=0)
        except BadInput:
            failed += 1
            continue
        t_greedy += time.perf_counter() - t
        gap = 100.0 * (g.expected_g - m.expected_g) / m.expected_g
        gaps.append(gap)
        optimal += gap < 1e-6
    g_arr = np.array(gaps)
    print("| small cases (seed 0) | value |")
    print("|---|---|")
    print(f"| cases drawn / feasible by the MILP | {n_cases} / {feasible} |")
    print(f"| feasible cases the greedy could not place | **{failed}** |")
    print(f"| greedy optimal (within 1e-6 %) | {optimal} ({100 * optimal / feasible:.0f} %) |")
    print(f"| greedy above the MILP: mean / median / 95th pct / max | {g_arr.mean():.2f} % / "
          f"{np.median(g_arr):.2f} % / {np.percentile(g_arr, 95):.2f} % / {g_arr.max():.2f} % |")
    print(f"| time greedy / MILP (all cases) | {t_greedy:.1f} s / {t_milp:.1f} s "
          f"(ratio {t_greedy / t_milp:.2f}) |")


def greedy_milp(quick: bool) -> None:
    s = TraceSource.for_zone("GB").full_series
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
        nv = sum(Grid(s).starts(j).size for j in jobs)
        print(f"| {n} | {nv} | {ms} | {g.solve_s:.2f} | {ratio} |", flush=True)


def calibrate(quick: bool) -> None:
    """The rule's ``p_min``, on January-March 2020 only (the oracle setup, ensemble)."""
    from wattwise.schedule.scenarios import nightly
    from wattwise.schedule.simulate import replay_for, simulate

    flexes = (1, 4, 12) if quick else (1, 2, 4, 8, 12)
    print("| zone | strategy | p_min | " + " | ".join(f"±{f} h" for f in flexes) + " |")
    print("|---|---|---|" + "---|" * len(flexes))
    for zone in ("DE", "GB", "FR"):
        series = TraceSource.for_zone(zone).full_series
        rep = replay_for("ensemble", series)
        for strategy in ("once", "replan"):
            for p_min in (0.0, 0.5, 0.55, 0.6, 0.65, 0.7, 0.8):
                cells = []
                for f in flexes:
                    r = simulate(nightly(zone, f, Y0, Q2, duration_h=0.5, utc=True), series,
                                 forecaster="ensemble", strategy=strategy,  # type: ignore[arg-type]
                                 p_min=p_min, replay=rep, slot_s=1800.0)
                    cells.append(f"{r.realised_pct:.0f} %")
                print(f"| {zone} | {strategy} | {p_min:g} | " + " | ".join(cells) + " |",
                      flush=True)


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--only", default="speed,greedy,milp")
    args = ap.parse_args()
    parts = {"speed": speed, "greedy": greedy_small, "milp": greedy_milp, "calibrate": calibrate}
    t0 = time.perf_counter()
    for name in args.only.split(","):
        parts[name.strip()](args.quick)
        print()
    print(f"{time.perf_counter() - t0:.0f} s in all")
