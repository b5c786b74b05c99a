"""``records.stored_energy``: what is wrong with a stored total energy, in the words every
output uses."""

from __future__ import annotations

import math

import pytest

from wattwise.records.stored_energy import (
    energy_fault,
    summary_energy_fault,
    unusable_energy_notes,
)


@pytest.mark.parametrize(("value", "words"), [
    ("abc", "not a number (stored as 'abc')"),
    (-5.0, "negative (-5 J)"),
    (math.inf, "not a finite number (stored as inf)"),
    (True, "not a number (stored as 'True')"),
])
def test_each_kind_of_damage_is_named(value: object, words: str) -> None:
    assert energy_fault(value) == words


def test_a_total_a_rounding_outside_its_range_is_usable() -> None:
    """Sums taken in another order differ in the last bits: the page's own slack (1e-6 of
    the range) is the server's too, so both call the same totals usable."""
    assert energy_fault(30.0 + 1e-9, 10.0, 30.0) is None
    assert energy_fault(30.1, 10.0, 30.0) is not None
    assert energy_fault(5.0, 30.0, 10.0) is None  # a reversed range says nothing of it
    assert unusable_energy_notes({"energy_j": 2e15}) == [
        "the stored energy is not usable: implausibly large (2e+15 J, more than 1e+15 J): "
        "a damaged record"]


def test_a_summary_holding_its_total_as_null_is_damaged() -> None:
    """Every summary wattwise writes holds a number as its total: one holding null is a
    damaged record, said as the others are, never a bare "-"; a run with no summary (still
    recording, or lost) or a summary with no total key has nothing to judge."""
    assert unusable_energy_notes({"energy_j": None, "low_j": 47.8, "high_j": 74.5}) == [
        "the stored energy is not usable: missing (stored as null): a damaged record"]
    assert summary_energy_fault({"energy_j": None}) == "missing (stored as null)"
    assert summary_energy_fault(None) is None
    assert summary_energy_fault({"kind": "estimated"}) is None
    assert unusable_energy_notes(None) == [] and unusable_energy_notes({}) == []
    assert energy_fault(None) is None  # None here is no total at all, as callers pass it
    assert summary_energy_fault({"energy_j": 58.7, "low_j": 47.8, "high_j": 74.5}) is None
    assert summary_energy_fault({"energy_j": 200.0, "low_j": 47.8, "high_j": 74.5}) == \
        energy_fault(200.0, 47.8, 74.5)
