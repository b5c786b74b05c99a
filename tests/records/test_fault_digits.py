"""A stored figure's fault says the figure and the bound it passes in as many digits as
tell them apart: "outside its own range (13.6804 J, range 12.6263-13.6804 J)" and
"implausibly large (1e+15 J, more than 1e+15 J)" read as no fault at all."""

from __future__ import annotations

import pytest

from wattwise.records.stored_energy import emissions_fault, energy_fault


@pytest.mark.parametrize(("args", "why"), [
    ((13.68045, 12.6263, 13.6804), "outside its own range (13.6805 J, range 12.6263-13.6804 J)"),
    ((13.68035, 13.6804, 16.4165), "outside its own range (13.68035 J, range 13.6804-16.4165 J)"),
    ((6.0, 10.0, 30.0), "outside its own range (6 J, range 10-30 J)"),
    ((1e15 + 1,), "implausibly large (1000000000000001 J, more than 1e+15 J)"),
    ((2e15,), "implausibly large (2e+15 J, more than 1e+15 J)"),
])
def test_the_figure_and_its_bound_are_told_apart(args: tuple[float, ...], why: str) -> None:
    assert energy_fault(*args) == why


def test_emissions_are_told_apart_alike() -> None:
    assert emissions_fault(2.000003, 1.0, 2.0) == ("outside its own range (2.000003 gCO2eq, "
                                                   "range 1-2 gCO2eq)")
