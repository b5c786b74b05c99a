"""A stored study whose variants are at odds with it (edited): a test accuracy of 1e9 %,
a quality change that is not its quality less the baseline's, two variants of one label,
a front naming no variant, two edited figures of one variant. Each was shown as a figure
(two rows "baseline" both on the front; a Δ of +1e300 beside 95.78 and 96.89) or said
once ("1 figure(s) not valid" of two); each is now a damaged record, said, not drawn."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from tests.server._results import results_db, set_window, study
from wattwise.server import create_app


def _edited(tmp_path: Path, edit: Any) -> tuple[dict[str, Any], dict[str, Any], str]:
    db = tmp_path / "runs.db"
    sid = results_db(db)["study"]
    s = study().to_dict(1.0, None)
    edit(s)
    set_window(db, sid, "study", s)
    with TestClient(create_app(db), base_url="http://localhost") as c:
        body = c.get(f"/api/compress/{sid}").json()
        (listed,) = [x for x in c.get("/api/compress").json()["studies"] if x["run_id"] == sid]
        svg = c.get(f"/api/compress/{sid}/front.svg").text
    return body, listed, svg


def _by(body: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {v["label"]: v for v in body["variants"]}


def test_a_percentage_past_100_is_a_damaged_record(tmp_path: Path) -> None:
    def edit(s: dict[str, Any]) -> None:
        s["variants"][1]["quality"] = 1e9
        s["variants"][1]["quality_delta"] = 1e9 - 97.0

    body, listed, svg = _edited(tmp_path, edit)
    bad = _by(body)["int8-dynamic"]
    assert bad["damaged"] == "its stored quality 1e+09 is outside 0-100 %", bad
    assert not bad["on_front"] and bad["damaged"] in bad["not_valid"]
    line = "int8-dynamic: its stored quality 1e+09 is outside 0-100 %: a damaged record, not drawn"
    assert line in body["damaged"] and line in listed["damaged"]
    assert "left out: 1 variant whose stored quality is not usable" in svg


def test_a_quality_change_at_odds_with_the_qualities_is_a_damaged_record(
        tmp_path: Path) -> None:
    def edit(s: dict[str, Any]) -> None:
        s["variants"][2]["quality_delta"] = 1e300

    body, _, _ = _edited(tmp_path, edit)
    by = _by(body)
    bad = by["prune-unstructured:0.5"]
    assert bad["damaged"] == ("its stored quality change 1e+300 is not its quality less the "
                              "baseline's (95 - 97 = -2)"), bad
    assert by["int8-dynamic"]["damaged"] is None  # -0.4 of 96.6 less 97: rounding, not odds


def test_two_edited_figures_are_two_lines(tmp_path: Path) -> None:
    def edit(s: dict[str, Any]) -> None:
        s["variants"][1]["bench"]["energy_j_per_sample"]["mean"] = -3.0
        s["variants"][1]["quality_delta"] = "abc"

    body, _, _ = _edited(tmp_path, edit)
    bad = _by(body)["int8-dynamic"]
    assert bad["not_valid"] == [
        "its stored energy per sample is not usable: negative (-3 J/sample)",
        "its stored quality change is not a number (stored as 'abc')"], bad["not_valid"]


def test_a_second_variant_of_one_label_and_a_stray_front_entry_are_said(
        tmp_path: Path) -> None:
    def edit(s: dict[str, Any]) -> None:
        s["variants"][2]["label"] = "baseline"
        s["pareto_front"] = ["nope", "baseline", "baseline"]

    body, _, svg = _edited(tmp_path, edit)
    rows = [v for v in body["variants"] if v["label"] == "baseline"]
    assert [v["on_front"] for v in rows] == [True, False], rows
    assert rows[1]["damaged"] == ("its label 'baseline' is an earlier variant's too (a study "
                                  "stores each variant once)")
    assert ("the stored Pareto front names 'nope', none of the study's benchmarked variants: "
            "not shown on the front") in body["damaged"]
    assert "left out: 1 variant" in svg


def test_a_floor_off_its_scale_is_a_damaged_record(tmp_path: Path) -> None:
    """A quality floor of 1e9 % was shown ("quality floor 1000000000 % test accuracy"):
    a built-in's floor is given on its 0-100 scale or is its baseline's quality less a
    loss of at most 100."""
    def edit(s: dict[str, Any]) -> None:
        s["quality_floor"] = 1e9

    body, listed, svg = _edited(tmp_path, edit)
    assert body["quality_floor"] is None
    line = ("the stored quality floor 1e+09 is outside -100-100 %: a damaged record, no floor "
            "line drawn")
    assert line in body["damaged"] and line in listed["damaged"], body["damaged"]
    assert "no floor line: the stored quality floor 1e+09 is outside" in svg

    def low(s: dict[str, Any]) -> None:  # a baseline of 0.5 % less a loss of 1: sound
        s["quality_floor"] = -0.5

    body, _, _ = _edited(tmp_path / "low", low)
    assert body["quality_floor"] == -0.5 and not any("floor" in x for x in body["damaged"])


def test_a_front_or_label_that_is_no_text_is_said_not_a_500(tmp_path: Path) -> None:
    def edit(s: dict[str, Any]) -> None:
        s["pareto_front"] = [["x"], {"a": 1}, "baseline"]
        s["variants"][2]["label"] = ["a", "list"]

    body, listed, _ = _edited(tmp_path, edit)  # each answered 200 (asserted by .json())
    line = next(x for x in body["damaged"] if x.startswith("the stored Pareto front"))
    assert line.startswith('the stored Pareto front names ["x"], {"a":1}'), line
    assert line in listed["damaged"]
    assert not any(v["on_front"] for v in body["variants"] if v["label"] != "baseline")


def test_a_quality_said_not_usable_is_not_shown_as_a_figure(tmp_path: Path) -> None:
    """"ok 101.0 +4.11" stood beside "its stored quality 101 is outside 0-100 %"."""
    def edit(s: dict[str, Any]) -> None:
        s["variants"][1]["quality"] = 101.0
        s["variants"][1]["quality_delta"] = 4.0
        s["variants"][2]["quality_delta"] = 5.0

    by = _by(_edited(tmp_path, edit)[0])
    assert by["int8-dynamic"]["quality"] is None and by["int8-dynamic"]["quality_delta"] is None
    prune = by["prune-unstructured:0.5"]
    assert prune["quality"] == 95.0 and prune["quality_delta"] is None, prune


def test_a_baseline_off_its_scale_is_no_reference_for_the_others(tmp_path: Path) -> None:
    def edit(s: dict[str, Any]) -> None:
        s["variants"][0]["quality"] = 1e9

    body, _, svg = _edited(tmp_path, edit)
    by = _by(body)
    assert by["baseline"]["damaged"] == "its stored quality 1e+09 is outside 0-100 %"
    assert by["int8-dynamic"]["damaged"] is None, by["int8-dynamic"]
    assert by["prune-unstructured:0.5"]["damaged"] is None
    assert "<svg" in svg and "left out: 1 variant" in svg


def test_a_failed_variant_is_neither_on_the_front_nor_the_pick(tmp_path: Path) -> None:
    def edit(s: dict[str, Any]) -> None:
        s["variants"][0]["status"] = "failed"
        s["pareto_front"] = ["baseline", "int8-dynamic"]
        s["recommended"] = "baseline"

    body, listed, _ = _edited(tmp_path, edit)
    base = _by(body)["baseline"]
    assert not base["on_front"] and not base["recommended"], base
    assert body["recommended"] is None
    said = ("the stored recommended variant baseline is a damaged variant (its status is "
            "'failed', it was not benchmarked): not shown as recommended")
    assert said in body["damaged"] and said in listed["damaged"], body["damaged"]
    front = ("the stored Pareto front names 'baseline', none of the study's benchmarked "
             "variants: not shown on the front")
    assert front in body["damaged"] and front in listed["damaged"]


def test_a_label_that_is_no_text_is_said_and_never_the_pick(tmp_path: Path) -> None:
    """A label and a pick of ["x"] were taken as the pick; the label was never said."""
    def edit(s: dict[str, Any]) -> None:
        s["variants"][1]["label"] = ["x"]
        s["recommended"] = ["x"]
        s["variants"][2]["size_bytes"] = 1e300

    body, listed, _ = _edited(tmp_path, edit)
    odd = next(v for v in body["variants"] if v["label"] not in ("baseline", "onnx")
               and v["label"] != "prune-unstructured:0.5")
    assert odd["damaged"] == 'its label is not text (stored as ["x"])', odd
    assert not odd["recommended"] and body["recommended"] is None
    assert any(x.startswith("the stored recommended variant") for x in body["damaged"])
    assert any("its label is not text" in x for x in listed["damaged"])
    prune = _by(body)["prune-unstructured:0.5"]  # a petabyte and more: no model's size
    assert prune["size_bytes"] is None and "size 1e+300 is not a valid figure" in prune[
        "not_valid"], prune


def test_a_null_label_is_named_and_a_text_label_is_no_twin_of_a_number(
        tmp_path: Path) -> None:
    def edit(s: dict[str, Any]) -> None:
        s["variants"][1]["label"] = None
        s["variants"][2]["label"] = 1
        s["variants"][0]["size_bytes"] = 0

    body, _, _ = _edited(tmp_path, edit)
    # as JSON: it began ": its label", then said "stored as 'None'" and "stored as '1'"
    assert "null: its label is not text (stored as null): a damaged record, not drawn" in \
        body["damaged"], body["damaged"]
    assert "1: its label is not text (stored as 1): a damaged record, not drawn" in \
        body["damaged"]
    # a front naming null, in the same words (it said "names 'None'")
    from wattwise.compress.stored import front_fault

    assert front_fault({"pareto_front": [None, "a", 1], "variants": [
        {"label": "a", "status": "ok"}]}) == ("the stored Pareto front names null, 1, none "
                                              "of the study's benchmarked variants: not "
                                              "shown on the front")
    base = _by(body)["baseline"]
    assert base["size_bytes"] is None and "size 0 is not a valid figure" in base["not_valid"]
