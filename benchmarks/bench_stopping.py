"""Other stopping rules for a replanned job, against ``replan``, on the oracle setup.

    .venv/bin/python benchmarks/bench_stopping.py [--end 2020-04-01] [--zones DE,GB,FR]
        [--flex 1,2,4,8,12] [--rules replan,expected-min,...]

The oracle setup (a 30-minute job due at 01:00 UTC every day of 2020, starts on a
30-minute grid within ±w h, the ensemble forecaster, no peeking) replayed with
``replan`` (``wattwise.schedule.simulate.decide``) and with rules that decide the
same question differently: at each slot until the job starts, "start now, or
wait?", each reading only the forecast made at that slot and the past errors at
the same time of day on the 28 days before (``ForecastReplay.scenarios``), so none
peeks. Under scenario ``k`` the actual cost of a start is its forecast cost minus
the error that day's forecast made over the same span.

- ``expected-min``: start now when now's expected cost is at most the expected
  minimum of the later starts (optimal stopping if the best later start could be
  recognised when it comes).
- ``stopping-dp``: backward induction over the later starts, each known when its
  slot comes, costs independent across slots, errors taken relative to now's
  (Moser's problem): start now when now's forecast is at most the value of waiting.
- ``greedy``: start now when now's forecast is at most every later forecast; the
  library's ``replan-lowest`` strategy is this rule wherever there are at least four
  days of past errors (every day of 2020 has them).
- ``bias-corrected``: as ``greedy`` on the forecast minus the mean past error.
- ``expected-saving``: the move rule (``schedule.confidence.choose``) ranking moves
  by expected instead of forecast saving.

Every rule but ``expected-saving`` keeps the usual time's protection: before it, the
job leaves early only where the move rule would leave (``choose`` picks now).
Prints one JSON line per zone and window: the share of the oracle's saving (%)
each rule realised. Only ``greedy`` beat ``replan`` on most of the year's cells;
it is in the library as ``replan-lowest``, the others are not (BENCHMARKS.md,
"Deciding differently").
"""

from __future__ import annotations

import argparse
import json
import math
import time
from collections.abc import Callable
from datetime import datetime, timezone

import numpy as np

from wattwise.carbon.forecast_replay import MIN_SCENARIOS, ForecastReplay, window_means
from wattwise.carbon.traces import TraceSource
from wattwise.schedule.confidence import P_MIN, choose
from wattwise.schedule.jobs import Job
from wattwise.schedule.planner import MIN_SAVING_PCT, Grid
from wattwise.schedule.scenarios import nightly
from wattwise.schedule.simulate import candidates, decide, replay_for

SLOT_S = 1800.0
Rule = Callable[[np.ndarray, np.ndarray], bool]


def _expected_min(fc: np.ndarray, actual: np.ndarray) -> bool:
    return float(actual[:, 0].mean()) <= float(actual[:, 1:].min(axis=1).mean())


def _stopping_dp(fc: np.ndarray, actual: np.ndarray) -> bool:
    rel = actual - (actual[:, :1] - fc[0])
    value = float(rel[:, -1].mean())
    for c in range(rel.shape[1] - 2, 0, -1):
        value = float(np.minimum(rel[:, c], value).mean())
    return float(fc[0]) <= value


def _greedy(fc: np.ndarray, actual: np.ndarray) -> bool:
    return float(fc[0]) <= float(fc[1:].min())


def _bias_corrected(fc: np.ndarray, actual: np.ndarray) -> bool:
    m = actual.mean(axis=0)
    return float(m[0]) <= float(m[1:].min())


RULES: dict[str, Rule] = {"expected-min": _expected_min, "stopping-dp": _stopping_dp,
                          "greedy": _greedy, "bias-corrected": _bias_corrected}


def _look(rep: ForecastReplay, job: Job, starts: np.ndarray,
          j: int) -> tuple[np.ndarray, np.ndarray]:
    """Forecast cost of each start from ``starts[j]`` on, and the past errors on it."""
    o = float(starts[j])
    n = max(1, math.ceil((job.deadline_unix_s - o) / rep.step_s - 1e-9))
    offs = starts[j:] - o
    fc = window_means(rep.forecast(o, n), rep.step_s, offs, job.duration_s)
    err = rep.scenarios(o, n)
    return fc, window_means(err, rep.step_s, offs, job.duration_s) if err.shape[0] \
        else np.zeros((0, offs.size))


def _now(rule: str, fc: np.ndarray, err: np.ndarray, j: int, u: int) -> bool:
    """Whether ``rule`` starts the job at slot ``j`` (``u``: the usual time's slot)."""
    if fc.size == 1:
        return True
    default = u - j if u >= j else 0
    if rule == "expected-saving" and err.shape[0] >= MIN_SCENARIOS:
        saving = fc[default] - fc
        real = saving[None, :] - (err[:, default][:, None] - err)
        p, e = (real > 0).mean(axis=0), real.mean(axis=0)
        ok = (p >= P_MIN) & (e > 0)
        return (int(np.argmax(np.where(ok, e, -np.inf))) if ok.any() else default) == 0
    moved = choose(fc, err if err.shape[0] else None, default, p_min=P_MIN,
                   min_saving_pct=MIN_SAVING_PCT)
    if rule not in RULES or err.shape[0] < MIN_SCENARIOS:
        return moved.index == 0
    stop = RULES[rule](fc, fc[None, :] - err)
    return stop and moved.index == 0 if j < u else stop


def run(zone: str, flexes: list[float], end_unix_s: float, rules: list[str]) -> None:
    s = TraceSource.for_zone(zone).full_series
    start = datetime(2020, 1, 1, tzinfo=timezone.utc).timestamp()
    rep = replay_for("ensemble", s)
    real = Grid(s)
    for f in flexes:
        t0 = time.perf_counter()
        jobs = nightly(zone, f, start, end_unix_s, duration_h=0.5, utc=True).jobs
        got = dict.fromkeys(rules, 0.0)
        base = best = 0.0
        for job in jobs:
            starts = candidates(job, SLOT_S)
            u = int(np.flatnonzero(starts == job.baseline_start)[0])
            cost = np.asarray(real.grams(starts, starts + job.duration_s, job.power_w))
            base += float(cost[u])
            best += float(cost.min())
            looks: dict[int, tuple[np.ndarray, np.ndarray]] = {}
            for r in rules:
                if r == "replan":
                    d = decide(job, rep, strategy="replan", slot_s=SLOT_S)
                    got[r] += float(cost[int(np.flatnonzero(starts == d.start_unix_s)[0])])
                    continue
                pick = starts.size - 1
                for j in range(starts.size - 1):
                    if j not in looks:
                        looks[j] = _look(rep, job, starts, j)
                    if _now(r, *looks[j], j, u):
                        pick = j
                        break
                got[r] += float(cost[pick])
        print(json.dumps({"zone": zone, "flex_h": f, "jobs": len(jobs),
                          "oracle_saving_pct": round(100.0 * (base - best) / base, 2),
                          "realised_pct": {r: round(100.0 * (base - g) / (base - best), 1)
                                           for r, g in got.items()},
                          "s": round(time.perf_counter() - t0, 1)}), flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--end", default="2021-01-01", help="end of the span (UTC date)")
    ap.add_argument("--zones", default="DE,GB,FR")
    ap.add_argument("--flex", default="1,2,4,8,12")
    ap.add_argument("--rules", default="replan,expected-min,stopping-dp,greedy,bias-corrected,"
                    "expected-saving")
    a = ap.parse_args()
    end = datetime.fromisoformat(a.end).replace(tzinfo=timezone.utc).timestamp()
    for z in a.zones.split(","):
        run(z, [float(x) for x in a.flex.split(",")], end, a.rules.split(","))


if __name__ == "__main__":
    main()
