"""``records.run_sums.usable_figures``: a run whose summary holds no emissions block
(recorded without them) gives no emissions with the note the CodeCarbon export gives,
never a bare null; a study's summary (``summary_of``), which has none of its own, no note."""

from __future__ import annotations

from wattwise.records.run_sums import NOT_RECORDED, summary_figures, usable_figures


def _figures(summary: dict[str, object]) -> dict[str, object]:
    return usable_figures(summary, summary_figures(summary), lambda: None)


def test_a_run_recorded_without_emissions_says_so() -> None:
    got = _figures({"energy_j": 10.0, "low_j": 8.0, "high_j": 12.0})
    assert got["emissions_g"] is None and got["emissions_note"] == NOT_RECORDED
    assert NOT_RECORDED == ("the run was recorded without emissions "
                            "(`wattwise report` prices it)")
    assert got["energy_j"] == 10.0 and got["energy_note"] is None


def test_a_study_summary_and_a_priced_run_get_no_such_note() -> None:
    study = _figures({"energy_j": 10.0, "summary_of": {"what": "study", "run_ids": [1]}})
    assert study["emissions_note"] is None
    priced = _figures({"energy_j": 10.0, "emissions": {"emissions_g": 0.001}})
    assert priced["emissions_note"] is None and priced["emissions_g"] == 0.001


def test_a_range_bound_too_large_for_a_float_is_not_given() -> None:
    got = _figures({"energy_j": 10.0, "low_j": 10**400, "high_j": 12.0,
                    "emissions": {"emissions_g": 1.0}})
    # no range is given, and the note names the bound (the figure is a damaged record)
    assert got["low_j"] is None and got["high_j"] is None
    assert "low_j (a bound of its range) is implausibly large" in str(got["energy_note"])
