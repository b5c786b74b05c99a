"""Choosing a power limit: least energy within the deadline, Zeus's cost, and the curves."""

from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.fixtures.fake_nvml import FakeNvml, load_recording
from wattwise import tune as tuning
from wattwise.errors import BadInput
from wattwise.powerlimit import (
    cap_exponents,
    cap_slowdown,
    choose_power_limit,
    curve_from_sweep,
    estimate_curve,
    make_curve,
    power_limit_for,
    slowdown_for_slack,
    zeus_cost,
)

#: limit W, time s, energy J: a U-shaped energy curve as power-limit sweeps show.
POINTS = [(200, 2.0, 500.0), (300, 1.5, 420.0), (400, 1.2, 450.0), (500, 1.05, 480.0),
          (700, 1.0, 600.0)]
CURVE = make_curve(POINTS, kind="measured", source="test sweep")


def test_without_a_deadline_the_least_energy_wins() -> None:
    c = choose_power_limit(CURVE)
    assert c.limit_w == 300 and c.meets_deadline and c.kind == "measured"
    assert c.slowdown == 1.5 and c.energy_ratio == pytest.approx(0.7)
    assert "no deadline given" in c.reason and "test sweep" in c.reason


def test_a_deadline_excludes_the_slow_limits_and_the_reason_names_the_one_it_cost() -> None:
    c = choose_power_limit(CURVE, max_slowdown=1.3)
    assert c.limit_w == 400 and c.meets_deadline
    assert c.energy_saving == pytest.approx(0.25)
    assert "within the deadline" in c.reason and "allowed x1.3" in c.reason
    assert "300 W would spend 70.0% but take x1.5, past the deadline" in c.reason


def test_a_limit_exactly_at_the_deadline_meets_it() -> None:
    assert choose_power_limit(CURVE, max_slowdown=1.2).limit_w == 400


def test_no_slack_keeps_the_fastest_limit() -> None:
    assert choose_power_limit(CURVE, max_slowdown=1.0).limit_w == 700


def test_a_deadline_nothing_meets_takes_the_fastest_and_says_so() -> None:
    c = choose_power_limit(CURVE, max_slowdown=0.5)
    assert c.limit_w == 700 and not c.meets_deadline
    assert c.reason.startswith("no limit meets the deadline")


def test_zeus_cost_trades_energy_against_time() -> None:
    assert choose_power_limit(CURVE, eta=1.0).limit_w == 300  # energy only
    assert choose_power_limit(CURVE, eta=0.0).limit_w == 700  # time only
    # eta 0.5: cost = 0.5 E + 0.5 x 700 x T; by hand 200: 950, 300: 735, 400: 645, 500: 607.5,
    # 700: 650 -> 500 W.
    costs = {p.limit_w: zeus_cost(p, 0.5, 700) for p in CURVE.points}
    assert costs[500] == pytest.approx(607.5) and min(costs, key=costs.__getitem__) == 500
    c = choose_power_limit(CURVE, eta=0.5)
    assert c.limit_w == 500 and c.objective == "zeus cost (eta=0.5)"
    assert choose_power_limit(CURVE, eta=0.5, max_slowdown=1.01).limit_w == 700


def test_power_limit_for_turns_a_job_and_its_deadline_into_a_slowdown() -> None:
    c = power_limit_for(3600.0, 4500.0, CURVE)  # x1.25 allowed
    assert c.limit_w == 400 and c.time_s == pytest.approx(3600 * 1.2)
    assert c.deadline_s == 4500.0 and c.max_slowdown == pytest.approx(1.25)
    assert c.to_dict()["time_s"] == pytest.approx(4320.0)
    late = power_limit_for(3600.0, 1800.0, CURVE)
    assert late.limit_w == 700 and not late.meets_deadline


@pytest.mark.parametrize("args", [(0, 10), (-1, 10), (10, 0), (math.nan, 10), (10, math.inf),
                                  (True, 10)])
def test_power_limit_for_refuses_durations_that_are_not_positive_numbers(args) -> None:
    with pytest.raises(BadInput, match="must be a finite number > 0"):
        power_limit_for(*args, CURVE)


@pytest.mark.parametrize("eta", [-0.1, 1.5, math.nan, "0.5"])
def test_eta_outside_zero_to_one_is_refused(eta) -> None:
    with pytest.raises(BadInput, match="eta must be a number from 0 to 1"):
        choose_power_limit(CURVE, eta=eta)


def test_slack_is_extra_time() -> None:
    assert slowdown_for_slack(0.2) == pytest.approx(1.2) and slowdown_for_slack(0) == 1.0
    with pytest.raises(BadInput, match="slack"):
        slowdown_for_slack(-0.1)


@pytest.mark.parametrize(("points", "kind", "match"), [
    ([], "measured", "at least one point"),
    ([(300, 1, 1), (300, 2, 2)], "measured", "appears twice"),
    ([(300, 0, 1)], "measured", "time"),
    ([(300, 1, 1)], "guessed", "curve kind"),
])
def test_bad_curves_are_refused_in_one_line(points, kind, match) -> None:
    with pytest.raises(BadInput, match=match):
        make_curve(points, kind=kind, source="x")


def test_the_curve_is_sorted_and_its_reference_is_the_highest_limit() -> None:
    c = make_curve(reversed(POINTS), kind="estimated", source="x")
    assert [p.limit_w for p in c.points] == [200, 300, 400, 500, 700]
    assert c.reference.limit_w == 700 and c.to_dict()["reference_w"] == 700


# -- estimated curves --------------------------------------------------------

def test_cap_slowdown_is_one_without_a_cap_and_grows_as_the_cap_falls() -> None:
    assert cap_slowdown(600, 700, 125, 2 / 3) == 1.0
    times = [cap_slowdown(690, w, 125, 2 / 3) for w in (600, 400, 200)]
    assert 1.0 < times[0] < times[1] < times[2]
    assert cap_slowdown(690, 407.5, 125, 1.0) == pytest.approx(2.0)  # rate ~ power above idle


def test_exponent_ends_come_from_the_estimator_defaults() -> None:
    from wattwise.estimate import defaults

    c = defaults.POWER_CAP_EXPONENT
    assert cap_exponents() == {"low": c.low, "central": c.value, "high": c.high}


def test_the_estimated_top_limit_draws_what_the_recorded_h100_matmul_drew() -> None:
    """The fake NVML's range and the recorded bf16 matmul: the model at 700 W agrees."""
    nv = FakeNvml.from_recording("h100")
    rng = tuning.power_limit_range(0, nv)
    curve = estimate_curve(tuning.plan_power_limits(rng), rated_w=rng.max_w, name=rng.name)
    assert curve.kind == "estimated" and "power-cap model" in curve.source
    rec = load_recording("h100")
    phase = next(p for p in rec.phases if p["phase"] == "matmul_bf16")
    inside = (rec.t_ns > phase["t0_ns"] + 2e9) & (rec.t_ns < phase["t1_ns"])
    recorded_w = float(np.mean(rec.instant_mw[inside])) / 1000
    assert curve.reference.power_w == pytest.approx(recorded_w, rel=0.03)
    assert all(p.power_w <= p.limit_w for p in curve.points)


def test_the_estimated_minimum_sits_where_the_model_puts_it() -> None:
    # E(L) = L x ((want - idle) / (L - idle)) ** c is least at L = idle / (1 - c).
    idle, c = 125.0, 2 / 3
    limits = list(range(200, 701, 5))
    curve = estimate_curve(limits, rated_w=700, work_w=690, idle_w=idle, exponent=c)
    assert choose_power_limit(curve).limit_w == pytest.approx(idle / (1 - c), abs=5)
    # With rate ~ power above idle (c = 1) a cap never saves energy: no limit that binds wins.
    flat = estimate_curve(limits, rated_w=700, work_w=690, idle_w=idle, exponent=1.0)
    assert choose_power_limit(flat).limit_w >= 690


def test_a_limit_at_or_below_idle_is_refused() -> None:
    with pytest.raises(BadInput, match="at or below the idle draw"):
        estimate_curve([100, 700], rated_w=700)


# -- measured curves from the sweep -------------------------------------------

def bench(throughput: float, j_per_sample: float, kind: str = "measured") -> SimpleNamespace:
    return SimpleNamespace(throughput=SimpleNamespace(mean=throughput),
                           energy_j_per_sample=SimpleNamespace(mean=j_per_sample), kind=kind)


def test_a_real_sweep_on_the_fake_nvml_gives_a_measured_curve_and_restores_the_limit() -> None:
    nv = FakeNvml.from_recording("h200")
    rng = tuning.power_limit_range(0, nv)
    table = {200.0: bench(50, 3.0), 450.0: bench(90, 2.5), 700.0: bench(100, 3.2)}
    seen = []

    def run_at(w: float) -> SimpleNamespace:
        seen.append(nv.devices[0].power_limit_mw)
        return table[w]

    steps = tuning.sweep_power_limits(run_at, [200, 450, 700], nvml=nv, dry_run=False,
                                      allow=True)
    assert seen == [200_000, 450_000, 700_000]
    assert nv.devices[0].power_limit_mw == round(rng.current_w * 1000)
    curve = curve_from_sweep(steps, "sweep on the fake H200")
    assert curve.kind == "measured" and curve.unit == "sample"
    assert curve.points[0].time_s == pytest.approx(1 / 50)
    c = choose_power_limit(curve, max_slowdown=1.2)
    assert c.limit_w == 450 and c.kind == "measured"
    assert c.energy_ratio == pytest.approx(2.5 / 3.2)


def test_the_fake_refuses_a_limit_out_of_range_and_a_user_who_is_not_root() -> None:
    from tests.fixtures.fake_nvml import NVML_ERROR_INVALID_ARGUMENT, NVML_ERROR_NO_PERMISSION

    nv = FakeNvml.from_recording("h100")
    nv.nvmlInit()
    h = nv.nvmlDeviceGetHandleByIndex(0)
    assert nv.nvmlDeviceGetPowerManagementDefaultLimit(h) == 700_000
    with pytest.raises(nv.NVMLError) as err:
        nv.nvmlDeviceSetPowerManagementLimit(h, 100_000)
    assert err.value.value == NVML_ERROR_INVALID_ARGUMENT
    nv.root = False
    with pytest.raises(nv.NVMLError) as err:
        nv.nvmlDeviceSetPowerManagementLimit(h, 300_000)
    assert err.value.value == NVML_ERROR_NO_PERMISSION
    assert nv.nvmlDeviceGetPowerManagementLimit(h) == 700_000


def test_a_sweep_with_estimated_benchmarks_is_not_called_measured() -> None:
    steps = [tuning.PowerLimitStep(300.0, True, bench(10, 1.0, "estimated")),
             tuning.PowerLimitStep(700.0, True, bench(12, 1.1, "measured"))]
    assert curve_from_sweep(steps).kind == "mixed"


def test_a_dry_run_sweep_is_no_curve() -> None:
    with pytest.raises(BadInput, match="dry-run sweep measured nothing"):
        curve_from_sweep([tuning.PowerLimitStep(300.0, False)])


# -- for any curve -------------------------------------------------------------

_point = st.tuples(st.floats(0.01, 100), st.floats(0.01, 1e4))


@given(st.dictionaries(st.integers(100, 1000), _point, min_size=1, max_size=12),
       st.floats(0.5, 3.0))
def test_the_choice_is_never_beaten_by_a_limit_that_meets_the_deadline(raw, max_slowdown) -> None:
    curve = make_curve([(w, t, e) for w, (t, e) in raw.items()], kind="measured", source="h")
    c = choose_power_limit(curve, max_slowdown=max_slowdown)
    ref = curve.reference
    fits = [p for p in curve.points if p.time_s <= max_slowdown * ref.time_s]
    assert c.meets_deadline == bool(fits)
    if fits:
        assert c.slowdown <= max_slowdown * (1 + 1e-9)
        assert c.energy_ratio * ref.energy_j <= min(p.energy_j for p in fits) * (1 + 1e-12)
    else:
        assert c.slowdown == min(p.time_s for p in curve.points) / ref.time_s
