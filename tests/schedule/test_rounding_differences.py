"""A plan's saving or difference of two figures equal to rounding is 0, never 1e-16 g.

Forecast grams computed in two orders (a job moved to an hour of the same intensity,
the forecast and the realised emissions of a run at one intensity) differ in the last
bits: shown raw they read as "a forecast saving of 1.62e-15 g" or "difference
-1.78e-16 gCO2eq".
"""

from __future__ import annotations

from typing import Any

from wattwise.schedule.defer import explain
from wattwise.schedule.jobs import Job
from wattwise.schedule.result import Assignment, Plan, rounded_difference
from wattwise.schedule.ties import hold_if_marginal
from wattwise.server.results import plan_figures

T0 = 1_780_000_000.0
BASE = 0.02671234567
#: The same grams to rounding, a few ulps apart either way.
JUST_BELOW = BASE - 1.62e-15
JUST_ABOVE = BASE + 1.78e-16


def job() -> Job:
    return Job("planned-a", 3.0, T0, T0 + 30.0, power_w=100.0, zones=("DE",))


def test_a_move_that_saves_only_rounding_is_held_without_a_rounding_figure() -> None:
    moved = Assignment(job(), "DE", ((T0 + 10.0, T0 + 13.0),), JUST_BELOW, BASE)
    held = hold_if_marginal(moved, min_saving_pct=1.0)
    assert held.start_unix_s == T0 and held.expected_g == BASE
    assert "e-15" not in held.note and "same grams" in held.note, held.note
    real = Assignment(job(), "DE", ((T0 + 10.0, T0 + 13.0),), BASE * 0.999, BASE)
    assert "forecast saving of 2.67e-05 g" in hold_if_marginal(real).note


def test_the_plans_saving_is_zero_within_rounding() -> None:
    a = Assignment(job(), "DE", ((T0, T0 + 3.0),), JUST_ABOVE, BASE)
    plan = Plan((a,), "exact", JUST_ABOVE, BASE, JUST_ABOVE, 0.0, 0.0, ("static",))
    assert plan.saving_g == 0.0 and plan.saving_pct == 0.0
    assert plan.to_dict()["saving_g"] == 0.0
    assert Plan((a,), "exact", BASE / 2, BASE, BASE / 2, 0.0, 0.0, ()).saving_g == BASE / 2


def test_explain_gives_no_negative_zero_percent() -> None:
    import numpy as np

    from wattwise.carbon.sources import IntensitySeries

    flat = IntensitySeries(np.array([T0 - 3600.0, T0]), np.array([400.0, 400.0]), "DE",
                           "flat", "forecast", 3600.0)
    a = Assignment(job(), "DE", ((T0, T0 + 3.0),), JUST_ABOVE, BASE)
    line = explain(a, T0, flat)
    assert " 0.0 % less" in line and "-0.0 %" not in line, line


def record(emitted_g: float, kwh: float, planned: float) -> dict[str, Any]:
    return {"id": 19, "name": "planned-a", "status": "finished", "started_unix_s": T0,
            "tags": {"planned_start_unix_s": str(T0), "planned_g_per_kwh": repr(planned),
                     "usual_g_per_kwh": repr(planned)},
            # a whole record: its grams are its facility energy at its average intensity
            "summary": {"energy_j": kwh * 3.6e6, "emissions": {
                "facility_energy_kwh": kwh, "emissions_g": emitted_g,
                "avg_intensity_g_per_kwh": emitted_g / kwh}}}


def test_the_plans_api_gives_zero_for_a_difference_within_rounding() -> None:
    kwh, planned = 100.0 * 3.0 / 3.6e6, 320.5
    forecast = kwh * planned
    shown = plan_figures(record(forecast * (1 + 4e-16), kwh, planned))
    assert shown["realised_minus_forecast_g"] == 0.0
    assert shown["saving_g"] == 0.0
    off = plan_figures(record(forecast * 1.01, kwh, planned))["realised_minus_forecast_g"]
    assert off > 0 and abs(off - forecast * 0.01) < 1e-12


def test_rounded_difference_keeps_real_differences_and_their_sign() -> None:
    assert rounded_difference(1.0, 1.0 + 1e-15) == 0.0
    assert rounded_difference(1.0, 1.5) == -0.5 and rounded_difference(0.0, 0.0) == 0.0


def test_the_plan_table_gives_no_negative_zero_saving() -> None:
    from wattwise.cli._common import console
    from wattwise.cli.schedule import _print_plan

    a = Assignment(job(), "DE", ((T0, T0 + 3.0),), JUST_ABOVE, BASE)
    plan = Plan((a,), "exact", JUST_ABOVE, BASE, JUST_ABOVE, 0.0, 0.0, ("static",))
    with console.capture() as cap:
        _print_plan(plan, [])
    out = cap.get()
    assert "0.0 %" in out and "-0.0 %" not in out, out
