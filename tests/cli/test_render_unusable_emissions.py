"""``cli.render.emissions_lines`` (what ``wattwise show`` prints) never shows stored
emissions that are not usable as a reading: ``show 1`` once printed "emissions: 1e+308
gCO2eq (0.006393-0.009957)", ``show 3`` "emissions: - gCO2eq", and a block stored as
text printed nothing and no note. It gives ``wattwise report``'s figure where it is given
how to price it, and the one note every output gives."""

from __future__ import annotations

from typing import Any

import pytest

from wattwise.cli.render import emissions_lines

_EM = {"emissions_g": 0.0078, "low_g": 0.0064, "high_g": 0.0099, "zone": "WORLD"}
_SUMMARY = {"energy_j": 58.7, "low_j": 47.8, "high_j": 74.5, "kind": "estimated"}


@pytest.mark.parametrize(("emissions", "why"), [
    ({**_EM, "emissions_g": 1e308}, "implausibly large (1e+308 gCO2eq"),
    ({**_EM, "emissions_g": -5.0}, "negative (-5 gCO2eq)"),
    ({**_EM, "emissions_g": "abc"}, "not a number (stored as 'abc')"),
    ("abc", "not an object (stored as 'abc')"),
    (None, "missing (stored as null)"),
])
def test_damaged_emissions_give_report_s_figure_and_the_note(emissions: Any,
                                                              why: str) -> None:
    summary = {**_SUMMARY, "emissions": emissions}
    lines = emissions_lines(summary, 7, again=lambda: ("estimated", 58.7, 0.00783))
    text = "\n".join(lines)
    assert "1e+308" not in text.split("note:")[0] and "-5 gCO2eq (" not in text
    assert lines[0].startswith("emissions: 0.00783 gCO2eq, location-based, from estimated")
    assert "`wattwise report 7`" in lines[0]
    assert lines[1].startswith(f"note: the stored emissions are not usable: {why}")
    assert lines[1].endswith(": a damaged record")


def test_without_a_way_to_price_them_it_names_the_command() -> None:
    lines = emissions_lines({**_SUMMARY, "emissions": {**_EM, "emissions_g": 1e308}}, 3)
    assert lines[0] == ("emissions: no figure shown (the stored ones are not usable): "
                        "`wattwise report 3` prices the run from its samples")
    none = emissions_lines({**_SUMMARY, "emissions": "x"}, 3, again=lambda: None)
    assert "its samples give no usable figure" in none[0]


def test_an_unusable_total_makes_its_stored_emissions_unusable_too() -> None:
    summary = {**_SUMMARY, "energy_j": 1e308, "emissions": _EM}
    lines = emissions_lines(summary, 4, again=lambda: ("estimated", 58.6, 0.0078372))
    assert lines[0].startswith("emissions: 0.007837 gCO2eq")
    # the stored total's one note (printed by show) says why: no second note for it
    assert not any(line.startswith("note:") for line in lines), lines


def test_usable_emissions_are_printed_as_before() -> None:
    lines = emissions_lines({**_SUMMARY, "emissions": _EM}, 1)
    assert lines[0].startswith("emissions: 0.0078 gCO2eq (0.0064-0.0099), location-based")
