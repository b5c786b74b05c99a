"""A run database shaped like a real one: a demo-like training run and a few others.

The demo-like run has measured and estimated domains, windows with epochs nested
in ``train``, training-step marks, a sensor gap, events, and emissions priced on an intensity that
changes during the run, so every part of the run page has something to draw.
Everything is computed, so the figures the pages print can be checked.
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

from wattwise.records.store import SampleRow, Store

START = 1_760_000_000.0
DURATION_S = 300.0
STEP_S = 0.5
#: The demo-like run's domains: (name, kind, source, power at time t).
DOMAINS: list[tuple[str, str, str, Any]] = [
    ("cpu:package-0", "measured", "rapl:/sys/class/powercap/intel-rapl:0",
     lambda t: 15.0 + (50.0 + 8.0 * math.sin(t / 3.0) if 40 <= t < 260 else 0.0)),
    ("dram:0", "measured", "rapl:/sys/class/powercap/intel-rapl:0:0",
     lambda t: 3.0 + (1.5 if 40 <= t < 260 else 0.0)),
    ("gpu:0", "estimated", "model:utilisation x published board power",
     lambda t: 30.0 + (120.0 if 45 <= t < 255 else 0.0)),
]
#: Seconds from the start during which cpu:package-0 could not be read.
GAP_S = (200.0, 203.0)
#: Grid intensity per minute of the run, gCO2eq/kWh.
INTENSITY = [380.0, 360.0, 340.0, 420.0, 400.0]
WINDOWS = [("load", 0.0, 40.0), ("train", 40.0, 260.0), ("evaluate", 260.0, 300.0)] + [
    (f"epoch-{k}", 40.0 + 44.0 * k, 40.0 + 44.0 * (k + 1)) for k in range(5)
]

#: Training-step marks (``run.step(50)``) every 4 s while training, from 44 s to 256 s.
STEP_MARKS_S = (44.0, 256.0)
STEP_MARK_EVERY_S = 4.0
STEPS_PER_MARK = 50


def _intensity_at(t: float) -> float:
    return INTENSITY[min(len(INTENSITY) - 1, int(t // 60))]


def demo_like(store: Store, name: str = "demo-digits-mlp", start: float = START,
              scale: float = 1.0) -> int:
    """Record the demo-like run (powers times ``scale``); its id."""
    rid = store.create_run(
        name=name, started_unix_s=start, host={"hostname": "lab-01", "os": "Linux"},
        hardware={"cpu": "Example CPU"},
        sensors=[{"name": "rapl+model", "domains": [
            {"name": n, "kind": k, "source": s, "in_total": True} for n, k, s, _ in DOMAINS]}],
        versions={"wattwise": "test"}, command=["python", "train.py"],
    )
    rows: list[SampleRow] = []
    energy = {n: 0.0 for n, *_ in DOMAINS}
    grams = 0.0
    intervals: list[list[float]] = []
    marks: list[tuple[int, float, int, float, float, float, str]] = []
    n_steps = int(DURATION_S / STEP_S)
    for i in range(1, n_steps + 1):
        t = i * STEP_S
        if STEP_MARKS_S[0] <= t <= STEP_MARKS_S[1] and t % STEP_MARK_EVERY_S == 0:
            so_far = sum(energy.values())  # to the sample before this time
            marks.append((len(marks) + 1, start + t, STEPS_PER_MARK * (len(marks) + 1),
                          so_far, so_far * 0.9, so_far * 1.1, "mixed"))
        for dom, _kind, _src, power in DOMAINS:
            gap = dom == "cpu:package-0" and GAP_S[0] < t <= GAP_S[1]
            p = power(t - STEP_S / 2) * scale
            e = 0.0 if gap else p * STEP_S
            rows.append(SampleRow(start + t, dom, e, 0.0 if gap else p, e, e, gap))
            energy[dom] += e
            grams += e / 3.6e6 * _intensity_at(t - STEP_S / 2)
            intervals.append([start + t - STEP_S, start + t, _intensity_at(t - STEP_S / 2)])
    store.add_samples(rid, rows)
    store.add_steps(rid, marks)
    for wname, a, b in WINDOWS:
        store.add_window(rid, {
            "name": wname, "start_unix_s": start + a, "end_unix_s": start + b,
            "energy_j": 1.0, "kind": "mixed",
        })
    store.add_event(rid, start + 201.0, "gap", "cpu:package-0 could not be read for 3 s")
    store.add_event(rid, start + 150.0, "note", "checkpoint saved")
    total = sum(energy.values())
    store.finish_run(rid, ended_unix_s=start + DURATION_S, status="finished", summary={
        "energy_j": total, "low_j": total * 0.9, "high_j": total * 1.1, "kind": "mixed",
        "domains": [{"domain": n, "kind": k, "source": s, "energy_j": energy[n],
                     "low_j": energy[n], "high_j": energy[n],
                     "avg_power_w": energy[n] / DURATION_S, "in_total": True}
                    for n, k, s, _ in DOMAINS],
        "notes": [],
        "emissions": {
            "emissions_g": grams, "low_g": grams * 0.9, "high_g": grams * 1.1, "zone": "DE",
            "source": "trace: DE 2024 hourly", "kind": "historical", "pue": 1.0,
            "avg_intensity_g_per_kwh": grams / (total / 3.6e6),
            "intensity_used": intervals,
        },
    })
    return rid


def fixture_db(path: Path) -> dict[str, Any]:
    """The demo-like run, a smaller copy to compare it with, a failed run and a run
    recorded as running whose process is gone (shown as lost); their ids."""
    with Store(path) as store:
        demo = demo_like(store)
        smaller = demo_like(store, "demo-digits-mlp-int8", START + 1000.0, scale=0.6)
        failed = store.create_run(
            name="crashed <b>job</b>", started_unix_s=START + 2000.0,
            host={"hostname": "lab-02"}, hardware={}, sensors=[], versions={},
        )
        store.finish_run(failed, ended_unix_s=START + 2010.0, status="failed", exit_code=1)
        lost = store.create_run(
            name="lost-job", started_unix_s=START + 3000.0, host={"hostname": "lab-03"},
            hardware={}, sensors=[], versions={}, pid=2**22 + 7,  # no such process
        )
    return {"demo": demo, "smaller": smaller, "failed": failed, "lost": lost}


# -- runs for the edges of the run page's charts and of its stored figures ---------------

#: A demo-shaped run: (name, start, end) of its windows in seconds from its start. The
#: first ends before the first sample (0.512 s) and the last is 10 ms at the very end.
SHORT_WINDOWS = [("load", 0.013, 0.036), ("train", 0.037, 3.78), ("evaluate", 3.78, 3.79)]
SHORT_END_S = 3.79
#: Windows that overlap in time (the ``Meter`` API lets them), with long names.
OVERLAPPING = [("preprocessing-and-tokenisation-window", 0.6, 3.0),
               ("training-loop-overlapping-window", 0.9, 3.4),
               ("evaluation-window-also-overlapping", 1.2, 3.7),
               ("epoch-1", 0.6, 1.5), ("epoch-2", 1.5, 2.4)]
ONE_SAMPLE_S = 0.32


def _short_run(store: Store, name: str, start: float, times: list[float],
               windows: list[tuple[str, float, float]], end_s: float) -> int:
    """A finished run with one estimated domain sampled at ``times`` (seconds from
    ``start``) at 10 W, and ``windows``; its id."""
    rid = store.create_run(
        name=name, started_unix_s=start, host={"hostname": "lab-01"}, hardware={},
        sensors=[{"name": "model", "domains": [
            {"name": "cpu:model", "kind": "estimated", "source": "model: TDP x utilisation",
             "in_total": True}]}],
        versions={},
    )
    rows, last = [], 0.0
    for t in times:
        rows.append(SampleRow(start + t, "cpu:model", 10.0 * (t - last), 10.0,
                              9.0 * (t - last), 11.0 * (t - last)))
        last = t
    store.add_samples(rid, rows)
    for wname, a, b in windows:
        store.add_window(rid, {"name": wname, "start_unix_s": start + a,
                               "end_unix_s": start + b, "energy_j": 10.0 * (b - a),
                               "kind": "estimated"})
    total = 10.0 * last
    store.finish_run(rid, ended_unix_s=start + end_s, status="finished", summary={
        "energy_j": total, "low_j": 0.9 * total, "high_j": 1.1 * total, "kind": "estimated",
        "duration_s": end_s, "domains": [], "notes": []})
    return rid


def chart_edges(store: Store, start: float = START + 5000.0) -> dict[str, int]:
    """Runs whose power charts test the time axis and the window bands: ``short``
    (``SHORT_WINDOWS``, samples every 0.5 s from 0.512 s), ``one_sample`` (one sample at
    ``ONE_SAMPLE_S``, the run's end) and ``overlap`` (``OVERLAPPING``); their ids."""
    times = [0.512 + 0.5 * k for k in range(7)] + [SHORT_END_S]
    return {
        "short": _short_run(store, "short-windows", start, times, SHORT_WINDOWS,
                            SHORT_END_S),
        "one_sample": _short_run(store, "one-sample", start + 100.0, [ONE_SAMPLE_S], [],
                                 ONE_SAMPLE_S),
        "overlap": _short_run(store, "overlapping-windows", start + 200.0, times,
                              OVERLAPPING, SHORT_END_S),
    }


def damaged_figures(store: Store, start: float = START + 6000.0) -> dict[str, int]:
    """Finished runs whose stored total is not usable: ``text`` (energy "abc"),
    ``negative`` (-5 J) and ``outside`` (6 J against its own range of 10-30 J); their
    ids. Each has a valid range of 11.3-16.9 J but ``outside``."""
    out = {}
    for key, e, lo, hi in (("text", "abc", 11.3, 16.9), ("negative", -5.0, 11.3, 16.9),
                           ("outside", 6.0, 10.0, 30.0)):
        rid = store.create_run(name=f"damaged-{key}", started_unix_s=start, host={},
                               hardware={}, sensors=[], versions={})
        store.finish_run(rid, ended_unix_s=start + 10.0, status="finished", summary={
            "energy_j": e, "low_j": lo, "high_j": hi, "kind": "estimated",
            "domains": [{"domain": "cpu:model", "kind": "estimated", "source": "model",
                         "energy_j": e, "low_j": lo, "high_j": hi, "avg_power_w": 1.0,
                         "in_total": True}], "notes": []})
        out[key] = rid
        start += 100.0
    return out


def lost_with_samples(store: Store, start: float = START + 7000.0) -> int:
    """A run stored as running whose process is gone (lost), started in zone DE, with
    60 s of samples of one estimated domain at 20 W: its page and the API give a partial
    energy and its emissions so far; its id."""
    rid = store.create_run(
        name="lost-with-samples", started_unix_s=start,
        host={"hostname": "lab-04", "carbon_options": {
            "zone": "DE", "intensity_trace": None, "provider": None, "pue": None}},
        hardware={}, versions={}, pid=2**22 + 9,  # no such process
        sensors=[{"name": "model", "domains": [
            {"name": "cpu:model", "kind": "estimated", "source": "model: TDP x utilisation",
             "in_total": True}]}],
    )
    store.add_samples(rid, [SampleRow(start + t, "cpu:model", 20.0, 20.0, 18.0, 22.0)
                            for t in range(1, 61)])
    return rid


def running_run(store: Store, name: str = "running-now") -> int:
    """A run stored as running by this very process, on this host (alive, whatever its
    heartbeat, so never lost): its page refreshes. 19 samples of 5 J, one a second."""
    import os
    import time

    from wattwise.records.liveness import hostname

    start = time.time() - 30.0
    rid = store.create_run(
        name=name, started_unix_s=start, host={"hostname": hostname()},
        hardware={}, versions={}, pid=os.getpid(),
        sensors=[{"name": "model", "domains": [
            {"name": "cpu:model", "kind": "estimated", "source": "model", "in_total": True}]}],
    )
    store.add_samples(rid, [SampleRow(start + t, "cpu:model", 5.0, 5.0, 4.5, 5.5)
                            for t in range(1, 20)])
    return rid


def run_counts(metrics: str) -> dict[str, float]:
    """``wattwise_runs`` of a ``/metrics`` text, by status."""
    return {m[1]: float(m[2]) for m in re.finditer(
        r'^wattwise_runs\{status="(\w+)"\} (\S+)$', metrics, re.M)}


HOUR = 3600.0
#: gpu:0 stopped from 50 h to 50.5 h of the week
HOLE = (50 * HOUR, 50.5 * HOUR)


def week(path: Path, start: float) -> int:
    """A week sampled every 60 s, cpu:0 at 10-16 W and gpu:0 at 100-106 W (both counted;
    the watts step by 1 W a minute, round a 7-minute cycle), gpu:0 stopped over ``HOLE``."""
    with Store(path) as store:
        rid = store.create_run(
            name="week", started_unix_s=start, host={"hostname": "lab"}, hardware={},
            versions={}, sensors=[{"name": "meter", "domains": [
                {"name": n, "kind": "measured", "source": "meter", "in_total": True}
                for n in ("cpu:0", "gpu:0")]}])
        rows = []
        for name, base in (("cpu:0", 10.0), ("gpu:0", 100.0)):
            prev = start
            for k in range(1, 7 * 24 * 60 + 1):
                t = 60.0 * k
                if name == "gpu:0" and HOLE[0] < t < HOLE[1]:
                    continue
                watts = base + k % 7
                e = watts * (start + t - prev)
                rows.append(SampleRow(start + t, name, e, watts, e, e))
                prev = start + t
        store.add_samples(rid, sorted(rows, key=lambda r: r.t_unix_s))
        store.finish_run(rid, ended_unix_s=start + 7 * 24 * HOUR, status="finished")
    return int(rid)
