"""``records.stored_energy``: what is wrong with a stored total energy, in the words every
output uses."""

from __future__ import annotations

import math

import pytest

from wattwise.records.stored_energy import energy_fault, unusable_energy_notes


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
    assert unusable_energy_notes({"energy_j": None}) == []
