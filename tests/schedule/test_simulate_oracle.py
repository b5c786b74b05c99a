"""The oracle setup of Let's Wait Awhile: an independent oracle, replanning, no peeking."""

from __future__ import annotations

from datetime import datetime, time, timezone

import numpy as np
import pytest

from wattwise.carbon.traces import TraceSource
from wattwise.schedule.scenarios import nightly
from wattwise.schedule.simulate import decide, replay_for, simulate

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
    for strategy in ("once", "replan"):
        r = simulate(sc, s, forecaster="perfect", strategy=strategy,  # type: ignore[arg-type]
                     slot_s=HALF_H, replay=rep)
        assert r.baseline_g == pytest.approx(base, rel=1e-9)
        assert r.optimum_g == pytest.approx(best, rel=1e-9)
        assert r.strategy_g == pytest.approx(best, rel=1e-9)
        assert r.realised_pct == pytest.approx(100.0)


def test_a_replanned_start_never_depends_on_data_from_the_start_on() -> None:
    s = TraceSource.for_zone("GB").full_series
    sc = nightly("GB", 4, JAN + 20 * 86400.0, JAN + 26 * 86400.0, duration_h=0.5, utc=True)
    rep = replay_for("seasonal", s)
    checked = 0
    for job in sc.jobs:
        d = decide(job, rep, strategy="replan")
        # Replace everything from the chosen start on with nonsense: every decision up to
        # the start was made before it, so the same start must come out.
        from wattwise.carbon.sources import IntensitySeries

        cut = int(np.searchsorted(s.t_unix_s, d.start_unix_s, side="left"))
        g = np.asarray(s.g_per_kwh).copy()
        g[cut:] = np.random.default_rng(checked).uniform(0, 900, g.size - cut)
        other = IntensitySeries(s.t_unix_s, g, s.zone, s.source, s.kind, s.step_s)
        again = decide(job, replay_for("seasonal", other), strategy="replan")
        assert again.start_unix_s == d.start_unix_s
        checked += 1
    assert checked == len(sc.jobs) >= 5


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
