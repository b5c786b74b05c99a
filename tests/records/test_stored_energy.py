"""``records.stored_energy``: what is wrong with a stored total energy, in the words every
output uses."""

from __future__ import annotations

import math

import pytest

from wattwise.records.stored_energy import (
    PRICED_FROM_UNUSABLE,
    energy_fault,
    max_stored_emissions_g,
    summary_emissions_fault,
    summary_energy_fault,
    unusable_emissions_note,
    unusable_energy_notes,
    unusable_notes,
)


@pytest.mark.parametrize(("value", "words"), [
    ("abc", "not a number (stored as 'abc')"),
    (-5.0, "negative (-5 J)"),
    (math.inf, "not a finite number (stored as inf)"),
    (True, "not a number (stored as 'true')"),  # as stored: JSON text
])
def test_each_kind_of_damage_is_named(value: object, words: str) -> None:
    assert energy_fault(value) == words


def test_a_total_a_rounding_outside_its_range_is_usable() -> None:
    """Sums taken in another order differ in the last bits: the page's own slack (1e-6 of
    the range) is the server's too, so both call the same totals usable."""
    assert energy_fault(30.0 + 1e-9, 10.0, 30.0) is None
    assert energy_fault(30.1, 10.0, 30.0) is not None
    # a range whose low is above its high is no range: the figure stored with it is a
    # damaged record (within the slack of rounding it is still one figure's range)
    assert energy_fault(5.0, 30.0, 10.0) == \
        "stored with a range whose low is above its high (30-10 J)"
    assert energy_fault(20.0, 20.0 + 1e-9, 20.0) is None
    assert energy_fault(20.0, 20.0 + 1e-3, 20.0) is not None
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


def test_a_stored_text_is_named_as_it_is_stored() -> None:
    """The stored value is named in its JSON text, as the dashboard's page shows it: a
    stored object ``{"a":1}`` is not Python's ``{'a': 1}``, a stored true not ``True``."""
    assert energy_fault({"a": 1}) == """not a number (stored as '{"a":1}')"""
    assert energy_fault([1]) == "not a number (stored as '[1]')"
    assert energy_fault("58.7") == "not a number (stored as '58.7')"


#: A usable stored emissions block (grams with their own range).
_EM = {"emissions_g": 0.0078, "low_g": 0.0064, "high_g": 0.0099}


@pytest.mark.parametrize(("emissions", "why"), [
    ({**_EM, "emissions_g": 1e308},
     "implausibly large (1e+308 gCO2eq, more than 2.77e+12 gCO2eq)"),
    ({**_EM, "emissions_g": -5.0}, "negative (-5 gCO2eq)"),
    ({**_EM, "emissions_g": "abc"}, "not a number (stored as 'abc')"),
    ({**_EM, "emissions_g": True}, "not a number (stored as 'true')"),
    ({**_EM, "emissions_g": math.inf}, "not a finite number (stored as inf)"),
    ({**_EM, "emissions_g": math.nan}, "not a finite number (stored as nan)"),
    ({**_EM, "emissions_g": 2.0}, "outside its own range (2 gCO2eq, range 0.0064-0.0099 gCO2eq)"),
    ({**_EM, "emissions_g": None}, "missing (stored as null)"),
    ({"low_g": 0.1}, "missing (no emissions_g stored)"),
    ("abc", "not an object (stored as 'abc')"),
    ([1, 2], "not an object (stored as '[1,2]')"),
    (None, "missing (stored as null)"),
])
def test_each_kind_of_damaged_emissions_is_named(emissions: object, why: str) -> None:
    summary = {"energy_j": 58.7, "low_j": 47.8, "high_j": 74.5, "emissions": emissions}
    assert summary_emissions_fault(summary) == why
    assert unusable_emissions_note(why) == \
        f"the stored emissions are not usable: {why}: a damaged record"
    assert unusable_notes(summary) == [unusable_emissions_note(why)]


def test_usable_or_absent_emissions_say_nothing() -> None:
    assert summary_emissions_fault({"energy_j": 58.7, "emissions": _EM}) is None
    assert summary_emissions_fault({"energy_j": 58.7}) is None  # recorded without
    assert summary_emissions_fault(None) is None and summary_emissions_fault("x") is None
    assert summary_emissions_fault(
        {"emissions": {"emissions_g": max_stored_emissions_g()}}) is None


def test_emissions_priced_from_an_unusable_total_are_not_the_run_s() -> None:
    """Stored emissions were priced from the stored total: where that is not usable,
    neither are they (``wattwise report`` prices the run's from its samples)."""
    summary = {"energy_j": 1e308, "low_j": 47.8, "high_j": 74.5, "emissions": _EM}
    assert summary_emissions_fault(summary) == PRICED_FROM_UNUSABLE
    # one damaged figure, one note: the total's says why its emissions are repriced
    assert unusable_notes(summary) == [
        "the stored energy is not usable: implausibly large (1e+308 J, more than 1e+15 J): "
        "a damaged record"]
    # their own fault is named first
    assert summary_emissions_fault({**summary, "emissions": "x"}) == \
        "not an object (stored as 'x')"


def test_an_integer_too_large_for_a_float_is_implausibly_large() -> None:
    huge = 10**400  # JSON may hold it; float() raises OverflowError on it
    assert energy_fault(huge) == ("implausibly large (an integer of about 401 digits, "
                                  "more than 1e+15 J)")
    assert energy_fault(-huge) == "negative (an integer of about 401 digits)"
    # a bound that is no float is no range: the figure stored with it is named damaged
    assert energy_fault(1.0, huge, 2.0) == ("low_j (a bound of its range) is implausibly "
                                            "large (an integer of about 401 digits, more "
                                            "than 1e+15 J)")
    assert summary_energy_fault({"energy_j": huge}) is not None
    why = summary_emissions_fault({"energy_j": 1.0, "emissions": {"emissions_g": huge}})
    assert why is not None and why.startswith("implausibly large (an integer of about 401")
    why = summary_emissions_fault(
        {"energy_j": 1.0, "emissions": {"emissions_g": 1.0, "low_g": huge, "high_g": 2.0}})
    assert why is not None and why.startswith("low_g (a bound of its range) is implausibly")
    assert unusable_notes({"energy_j": huge})[0].startswith("the stored energy is not usable")


def test_as_float_refuses_what_a_float_cannot_hold() -> None:
    from wattwise.records.stored_energy import as_float, finite_float

    assert as_float(10**400) is None and finite_float(10**400) is None
    assert as_float(3) == 3.0 and finite_float(math.inf) is None and as_float(True) is None


def test_unsigned_zeros_reads_every_top_level_and_domain_number() -> None:
    """Every -0.0 of the summary's top level, its emissions block and its domains is 0.0;
    lists other than the domains (a million intervals) are passed on untouched."""
    import math

    from wattwise.records.stored_energy import unsigned_zeros

    intervals = [{"energy_j": -0.0}]
    got = unsigned_zeros({"energy_j": -0.0, "avg_power_w": -0.0, "duration_s": -0.0,
                          "kind": "estimated", "emissions": {"emissions_g": -0.0},
                          "domains": [{"avg_power_w": -0.0, "energy_j": 1.0}],
                          "intervals": intervals})
    signs = [got["avg_power_w"], got["duration_s"], got["energy_j"],
             got["emissions"]["emissions_g"], got["domains"][0]["avg_power_w"]]
    assert all(v == 0 and math.copysign(1, v) > 0 for v in signs)
    assert got["domains"][0]["energy_j"] == 1.0 and got["kind"] == "estimated"
    assert got["intervals"] is intervals
