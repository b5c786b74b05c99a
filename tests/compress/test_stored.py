"""Which stored J/sample values a study's or tuning's figure may draw
(``compress.stored``), and the Pareto plot leaving out those it may not."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from wattwise.bench.stats import Stat
from wattwise.compress.plot import render_svg
from wattwise.compress.stored import (
    drawable_study,
    floor_fault,
    j_per_sample_fault,
    number_fault,
    point_fault,
    variant_fault,
)
from wattwise.compress.study import Study, Variant


@pytest.mark.parametrize("value,why", [
    (0.004, None), (0, None), (0.0, None), (1e15, None),
    (None, "missing (stored as null)"),
    ("abc", "not a number (stored as 'abc')"),
    (True, "not a number (stored as 'True')"),
    ([1], "not a number (stored as '[1]')"),
    (float("nan"), "not a finite number (stored as nan)"),
    (float("-inf"), "not a finite number (stored as -inf)"),
    (-1.0, "negative (-1 J/sample)"),
    (-(10**400), "negative (-more than 1e+308 J/sample)"),
    (2e15, "implausibly large (2e+15 J/sample, more than 1e+15 J"),
    (10**400, "implausibly large (more than 1e+308 J/sample"),
], ids=lambda x: str(x)[:12])
def test_a_stored_j_per_sample_is_usable_only_as_a_possible_figure(
    value: Any, why: str | None
) -> None:
    got = j_per_sample_fault(value)
    assert got is None if why is None else got is not None and got.startswith(why)


def test_only_a_benchmarked_entry_is_judged() -> None:
    assert variant_fault({"status": "failed", "bench": None}) is None
    assert variant_fault({"status": "ok", "bench": None}) == \
        "its stored benchmark is missing or not an object"
    assert "not usable: negative" in str(variant_fault(
        {"status": "ok", "bench": {"energy_j_per_sample": {"mean": -2}}}))
    assert point_fault({"status": "failed", "energy_j_per_sample": "x"}) is None
    assert "not a number" in str(point_fault({"status": "ok", "energy_j_per_sample": "x"}))


def test_a_drawable_study_leaves_out_the_damaged_and_drops_bad_intervals() -> None:
    ok = {"label": "a", "status": "ok", "quality": 90.0, "bench": {"energy_j_per_sample": {
        "mean": 1.0, "low": 0.9, "high": 1.1}}}
    wide: dict[str, Any] = {"label": "b", "status": "ok", "quality": 90.0, "bench": {
        "energy_j_per_sample": {"mean": 1.0, "low": 1.5, "high": 2.0}}}
    bad = {"label": "c", "status": "ok", "quality": 90.0, "bench": {"energy_j_per_sample": {
        "mean": 1e308, "low": 1.0, "high": 2.0}}}
    failed = {"label": "d", "status": "failed", "bench": None}
    d, notes = drawable_study({"task": "t", "variants": [ok, wide, bad, failed]})
    assert [v["label"] for v in d["variants"]] == ["a", "b", "d"]
    assert d["variants"][0] is ok
    assert d["variants"][1]["bench"]["energy_j_per_sample"] == {
        "mean": 1.0, "low": None, "high": None}
    assert wide["bench"]["energy_j_per_sample"]["low"] == 1.5  # the stored dict unchanged
    assert notes[0].startswith("left out: 1 variant whose stored energy per sample is not "
                               "usable (a damaged record): c: ")
    assert notes[1].startswith("no bar:") and notes[1].endswith(" b")


def _variant(label: str, quality: float, energy: float) -> Variant:
    bench = SimpleNamespace(
        energy_j_per_sample=Stat(energy, energy * 0.97, energy * 1.03, 0.01, 5),
        throughput=Stat(1.0, 1.0, 1.0, 0.0, 5), kind="estimated", source="fake",
        latency_ms={"p50": 1.0})
    return Variant(label, "ok", None, quality, None, 1, 1, 0.0, bench)


def test_the_plot_draws_no_variant_whose_j_per_sample_is_not_a_possible_figure() -> None:
    """A study read back with a null J/sample holds NaN: it is left out and said."""
    study = Study("t", "accuracy", "%", (
        _variant("baseline", 97.0, 0.01), _variant("int8", 96.5, 0.004),
        _variant("nan-one", 96.0, float("nan")), _variant("neg-one", 95.0, -1.0)))
    svg = render_svg(study)
    assert 'data-label="nan-one"' not in svg and 'data-label="neg-one"' not in svg
    assert svg.count('class="point"') == 2
    assert "left out: 2 variants whose stored energy per sample is not usable" in svg


@pytest.mark.parametrize("value,why", [
    (96.5, None), (-3, None), (0, None),
    (None, "missing (stored as null)"),
    ("high", "not a number (stored as 'high')"),
    (False, "not a number (stored as 'False')"),
    (float("inf"), "not a finite number (stored as inf)"),
    (10**400, "not a finite number (stored as more than 1e+308)"),
], ids=lambda x: str(x)[:12])
def test_a_stored_quality_is_usable_only_as_a_finite_number(value: Any, why: str | None) -> None:
    assert number_fault(value) == why
    assert number_fault(None, optional=True) is None
    v = {"status": "ok", "quality": value,
         "bench": {"energy_j_per_sample": {"mean": 1.0, "low": None, "high": None}}}
    assert variant_fault(v) == (None if why is None else f"its stored quality is {why}")
    assert floor_fault({"quality_floor": value}) == (
        None if why is None or value is None else f"the stored quality floor is {why}")


def test_a_drawable_study_says_which_figure_of_its_left_out_variants_is_damaged() -> None:
    def ok(label: str, quality: Any, mean: Any) -> dict[str, Any]:
        return {"label": label, "status": "ok", "quality": quality,
                "bench": {"energy_j_per_sample": {"mean": mean, "low": None, "high": None}}}

    _, notes = drawable_study({"variants": [ok("a", 90.0, 1.0), ok("b", "high", 1.0)]})
    assert notes == ["left out: 1 variant whose stored quality is not usable (a damaged "
                     "record): b: its stored quality is not a number (stored as 'high')"]
    _, notes = drawable_study({"variants": [ok("b", "high", 1.0), ok("c", 90.0, -1.0)],
                               "quality_floor": "x"})
    assert notes[0].startswith("left out: 2 variants whose stored figures are not usable")
    assert notes[1] == ("no floor line: the stored quality floor is not a number "
                        "(stored as 'x'): a damaged record")
