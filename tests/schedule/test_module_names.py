"""Names the planner's modules always gave still import from there, as the same objects,
now that the slot grid, the single-job search, the tie rule and the capacity solvers
live in modules of their own."""

from __future__ import annotations

import importlib

import pytest

from wattwise.schedule import _slots, greedy, milp, nodes, options, result, search, ties

MOVED = {
    "wattwise.schedule.planner": {
        "Assignment": result.Assignment, "Plan": result.Plan, "Grid": _slots.Grid,
        "MAX_SLOTS": _slots.MAX_SLOTS, "baseline_g": _slots.baseline_g,
        "best_continuous": search.best_continuous,
        "best_interruptible": search.best_interruptible,
        "batch_continuous": search.batch_continuous, "free_choices": search.free_choices,
        "BATCH_CANDIDATES": search.BATCH_CANDIDATES, "MAX_DP_CELLS": search.MAX_DP_CELLS,
        "TieRule": ties.TieRule, "MIN_SAVING_PCT": ties.MIN_SAVING_PCT,
        "move_bar": ties.move_bar, "is_usual": ties.is_usual,
        "hold_if_marginal": ties.hold_if_marginal,
    },
    "wattwise.schedule.capacity": {
        "greedy": greedy.greedy, "milp": milp.milp, "options": options.options,
        "n_variables": options.n_variables, "Starts": options.Starts, "Slots": options.Slots,
        "REPAIR_BUDGET": greedy.REPAIR_BUDGET, "SEARCH_BUDGET": greedy.SEARCH_BUDGET,
    },
    "wattwise.schedule.placement": {
        "NodeEnergy": nodes.NodeEnergy, "SEP": nodes.SEP, "check_node": nodes.check_node,
        "site_key": nodes.site_key, "split_site": nodes.split_site,
    },
}


@pytest.mark.parametrize("module", sorted(MOVED))
def test_moved_names_are_the_same_objects_at_their_old_path(module: str) -> None:
    old = importlib.import_module(module)
    wrong = [name for name, obj in MOVED[module].items() if getattr(old, name, None) is not obj]
    assert not wrong, f"{module} no longer gives {wrong}"


def test_a_job_checks_its_node_figures_against_the_same_class_placement_names() -> None:
    from wattwise.schedule import Job
    from wattwise.schedule.placement import NodeEnergy

    job = Job("j", 3600.0, 0.0, 7200.0, energy_by_node={"a100": NodeEnergy(1e6, 3600.0, "x")})
    assert job.problems() == []
    bad = Job("k", 3600.0, 0.0, 7200.0, energy_by_node=(("a100", "not a figure"),))
    assert any("not a NodeEnergy" in p for p in bad.problems())
