"""The oracle setup of Let's Wait Awhile: an independent oracle, replanning, no peeking."""

from __future__ import annotations

from datetime import datetime, time, timezone

import numpy as np
import pytest

from wattwise.carbon.sources import IntensitySeries
from wattwise.carbon.traces import TraceSource
from wattwise.errors import BadInput
from wattwise.schedule.jobs import Job
from wattwise.schedule.scenarios import nightly
from wattwise.schedule.simulate import decide, lowest_now, replay_for, simulate

JAN = datetime(2020, 1, 1, tzinfo=timezone.utc).timestamp()
FEB = datetime(2020, 2, 1, tzinfo=timezone.utc).timestamp()
HALF_H = 1800.0


def lwa_oracle(zone: str, flex_h: int, days: int) -> tuple[float, float]:
    """``(baseline, oracle)`` grams for a 1 kW, 30-minute job due at 01:00 UTC on each of
    the ``days`` days from 2 January 2020 (the first whose window lies in 2020), starts
    every 30 minutes within ±``flex_h``, written from scratch: the mean intensity over
    each 30-minute slot, the job's cost at each start, the min."""
    s = TraceSource.for_zone(zone).full_series
    t, g = s.t_unix_s, s.g_per_kwh

    def slot_mean(a: float) -> float:
        # The step reading averaged over [a, a + 30 min) on a 1-minute grid.
        m = a + 60.0 * np.arange(30)
        return float(np.mean(g[np.searchsorted(t, m, side="right") - 1]))

    base = best = 0.0
    for d in range(1, days + 1):
        u = JAN + d * 86400.0 + 3600.0
        costs = [slot_mean(u + k * HALF_H) * 0.5 for k in range(-2 * flex_h, 2 * flex_h + 1)]
        base += costs[2 * flex_h]
        best += min(costs)
    return base, best


@pytest.mark.parametrize("zone", ["DE", "GB", "FR"])
def test_a_perfect_forecast_reproduces_an_independent_oracle(zone: str) -> None:
    s = TraceSource.for_zone(zone).full_series
    sc = nightly(zone, 4, JAN, FEB, duration_h=0.5, utc=True)
    assert sc.name == "nightly 30m at 01:00 UTC ±4h non-interruptible" and len(sc.jobs) == 30
    base, best = lwa_oracle(zone, 4, 30)
    rep = replay_for("perfect", s)
    for strategy in ("once", "replan", "replan-lowest"):
        r = simulate(sc, s, forecaster="perfect", strategy=strategy,  # type: ignore[arg-type]
                     slot_s=HALF_H, replay=rep)
        assert r.baseline_g == pytest.approx(base, rel=1e-9)
        assert r.optimum_g == pytest.approx(best, rel=1e-9)
        assert r.strategy_g == pytest.approx(best, rel=1e-9)
        assert r.realised_pct == pytest.approx(100.0)


@pytest.mark.parametrize("strategy", ["replan", "replan-lowest"])
def test_a_replanned_start_never_depends_on_data_from_the_start_on(strategy: str) -> None:
    s = TraceSource.for_zone("GB").full_series
    sc = nightly("GB", 4, JAN + 20 * 86400.0, JAN + 26 * 86400.0, duration_h=0.5, utc=True)
    rep = replay_for("seasonal", s)
    checked = late = 0
    for job in sc.jobs:
        d = decide(job, rep, strategy=strategy)  # type: ignore[arg-type]
        late += d.start_unix_s > job.baseline_start
        # Replace everything from the chosen start on with nonsense: every decision up to
        # the start was made before it, so the same start must come out.
        cut = int(np.searchsorted(s.t_unix_s, d.start_unix_s, side="left"))
        g = np.asarray(s.g_per_kwh).copy()
        g[cut:] = np.random.default_rng(checked).uniform(0, 900, g.size - cut)
        other = IntensitySeries(s.t_unix_s, g, s.zone, s.source, s.kind, s.step_s)
        again = decide(job, replay_for("seasonal", other), strategy=strategy)  # type: ignore[arg-type]
        assert again.start_unix_s == d.start_unix_s
        checked += 1
    assert checked == len(sc.jobs) >= 5
    if strategy == "replan-lowest":
        assert late >= 1  # some start came after the usual time, by the rule under test


@pytest.mark.parametrize(("costs", "now"), [
    ([3.0, 4.0, 5.0], True),          # now is the lowest
    ([5.0, 4.0, 6.0], False),         # a later start is lower: wait
    ([4.0, 4.0, 4.0], True),          # a tie starts now
    ([4.0, 6.0, 3.99], False),        # the lowest is the last start
    ([7.0], True),                    # nothing left to wait for
])
def test_lowest_now_starts_only_where_the_forecast_puts_now_lowest(costs: list[float],
                                                                  now: bool) -> None:
    assert lowest_now(np.array(costs)) is now


@pytest.mark.parametrize("bad", [[], [1.0, float("nan")], [[1.0, 2.0]]])
def test_lowest_now_refuses_what_is_not_a_row_of_costs(bad: list) -> None:  # type: ignore[type-arg]
    with pytest.raises(BadInput, match="forecast costs"):
        lowest_now(np.array(bad))


def _hand_made(values: dict[int, float]) -> tuple[IntensitySeries, Job]:
    """Four days of 100 g/kWh at 30-minute steps, with ``values`` (slot of day 2 from
    00:00) set, and a 30-minute job due at 01:00 on day 2, movable by ±1 h."""
    t = JAN + HALF_H * np.arange(4 * 48)
    g = np.full(t.size, 100.0)
    for k, v in values.items():
        g[2 * 48 + k] = v
    s = IntensitySeries(t, g, "DE", "hand-made", "trace", HALF_H)
    u = JAN + 2 * 86400.0 + 3600.0
    return s, Job("j", HALF_H, u - 3600.0, u + HALF_H + 3600.0, zones=("DE",),
                  baseline_start_unix_s=u)


def test_after_the_usual_time_replan_lowest_waits_for_a_lower_start_the_bar_refuses() -> None:
    # Exact (perfect) forecasts but too little history for error scenarios: a move must
    # then save over 1 % of the usual grams. 02:00 is 0.5 % below 01:00: replan keeps
    # the usual time; replan-lowest, at 01:00 and 01:30, sees 02:00 lower and waits.
    s, job = _hand_made({4: 99.5})
    rep = replay_for("perfect", s)
    assert decide(job, rep, strategy="replan", slot_s=HALF_H).start_unix_s == job.baseline_start
    d = decide(job, rep, strategy="replan-lowest", slot_s=HALF_H)
    assert d.start_unix_s == job.baseline_start + 3600.0 and d.moved and d.p_save is None


def test_before_the_usual_time_replan_lowest_keeps_the_move_rule() -> None:
    # 00:00 is 0.4 % below the usual time: under the 1 % bar, so neither strategy
    # leaves early; the later slots equal the usual time, so both start at 01:00.
    s, job = _hand_made({0: 99.6})
    rep = replay_for("perfect", s)
    for strategy in ("replan", "replan-lowest"):
        d = decide(job, rep, strategy=strategy, slot_s=HALF_H)  # type: ignore[arg-type]
        assert d.start_unix_s == job.baseline_start and not d.moved
    # 2 % lower clears the bar: both leave early for it.
    s, job = _hand_made({0: 98.0})
    rep = replay_for("perfect", s)
    for strategy in ("replan", "replan-lowest"):
        d = decide(job, rep, strategy=strategy, slot_s=HALF_H)  # type: ignore[arg-type]
        assert d.start_unix_s == job.earliest_start_unix_s and d.moved
    # With 02:00 lower still, neither starts at 00:00: both end at 02:00.
    s, job = _hand_made({0: 98.0, 4: 97.0})
    rep = replay_for("perfect", s)
    for strategy in ("replan", "replan-lowest"):
        d = decide(job, rep, strategy=strategy, slot_s=HALF_H)  # type: ignore[arg-type]
        assert d.start_unix_s == job.baseline_start + 3600.0 and d.moved


def test_decide_refuses_an_unknown_strategy() -> None:
    s, job = _hand_made({})
    with pytest.raises(BadInput, match="strategy must be one of once, replan, replan-lowest"):
        decide(job, replay_for("perfect", s), strategy="sometimes")  # type: ignore[arg-type]


def test_replanning_uses_fresher_forecasts_and_both_strategies_report_their_moves() -> None:
    s = TraceSource.for_zone("FR").full_series
    sc = nightly("FR", 8, JAN + 12 * 86400.0, FEB, duration_h=0.5, at=time(1, 0), utc=True)
    rep = replay_for("seasonal", s)
    once = simulate(sc, s, forecaster="seasonal", strategy="once", replay=rep)
    again = simulate(sc, s, forecaster="seasonal", strategy="replan", replay=rep)
    assert once.optimum_g == again.optimum_g and once.baseline_g == again.baseline_g
    for r in (once, again):
        assert r.optimum_g <= r.strategy_g + 1e-9
        assert r.to_dict()["strategy"] == r.strategy and r.n_moved <= r.n_jobs
    assert once.strategy_g != again.strategy_g


def test_the_lets_wait_awhile_noise_is_additive_on_the_perfect_forecast() -> None:
    s = TraceSource.for_zone("DE").full_series
    sc = nightly("DE", 8, JAN, FEB, duration_h=0.5, utc=True)
    clean = simulate(sc, s, forecaster="perfect", slot_s=HALF_H)
    noisy = simulate(sc, s, forecaster="perfect", slot_s=HALF_H, noise_pct=5,
                     noise_kind="additive", seed=1)
    assert noisy.noise_kind == "additive" and noisy.to_dict()["noise_pct"] == 5.0
    assert clean.realised_pct == pytest.approx(100.0)
    assert 0.0 < noisy.realised_pct < 100.0
