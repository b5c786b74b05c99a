"""``cli.render.emissions_lines`` of a run whose stored emissions are not usable says where
the figure in their place comes from: the stored total energy priced again where that
total is usable, the samples where it is not (it once said "samples" for both)."""

from __future__ import annotations

from wattwise.cli.render import emissions_lines


def _line(summary: dict[str, object]) -> str:
    return emissions_lines(summary, 7, again=lambda: ("estimated", 10.0, 0.5))[0]


def test_a_usable_total_is_named_as_the_source() -> None:
    line = _line({"energy_j": 10.0, "emissions": {"emissions_g": -5.0}})
    assert "the run's stored total energy priced again" in line and "samples" not in line


def test_a_damaged_total_leaves_the_samples_as_the_source() -> None:
    line = _line({"energy_j": -1.0, "emissions": {"emissions_g": 1.0}})
    assert "the run's samples priced again" in line
