"""A stored compression study or tuning whose J/sample is damaged (text, not finite,
negative, implausibly large, null): the API marks the variant damaged, per variant and in
the study's and the list's ``damaged``, and the figure leaves it out with a note saying
which and why, never drawing the stored value as a measurement."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests._damage import point_labels
from tests.server._results import add_bench, result, results_db, set_window, study, tuning
from tests.server._runs import START
from wattwise.records.store import Store
from wattwise.server import create_app

DAMAGED = [("abc", "not a number (stored as 'abc')"),
           (-1.0, "negative (-1 J/sample)"),
           (float("inf"), "not a finite number (stored as inf)"),
           (1e308, "implausibly large (1e+308 J/sample"),
           (10**400, "implausibly large (more than 1e+308 J/sample"),
           (None, "missing (stored as null)")]
IDS = ["text", "negative", "inf", "1e308", "huge-int", "null"]


def _ticks(svg: str) -> list[float]:
    """The numbers written on the figure (ticks), as floats."""
    number = re.compile(r"-?\d+(\.\d*)?(e[+-]?\d+)?")
    return [float(t) for t in re.findall(r"<text[^>]*>([^<]*)</text>", svg)
            if number.fullmatch(t)]


def _study_db(tmp_path: Path, value: Any, which: tuple[int, ...] = (1,)) -> tuple[Path, int]:
    db = tmp_path / "runs.db"
    sid = results_db(db)["study"]
    s = study().to_dict(1.0, None)
    for i in which:
        s["variants"][i]["bench"]["energy_j_per_sample"].update(mean=value, low=value)
    set_window(db, sid, "study", s)
    return db, sid


@pytest.mark.parametrize("value,why", DAMAGED, ids=IDS)
def test_a_damaged_j_per_sample_is_marked_in_the_api_and_left_out_of_the_figure(
    tmp_path: Path, value: Any, why: str
) -> None:
    db, sid = _study_db(tmp_path, value)
    with TestClient(create_app(db), base_url="http://localhost") as c:
        body = c.get(f"/api/compress/{sid}").json()
        (listed,) = [s for s in c.get("/api/compress").json()["studies"] if s["run_id"] == sid]
        svg = c.get(f"/api/compress/{sid}/front.svg")
    by = {v["label"]: v for v in body["variants"]}
    bad = by["int8-dynamic"]
    assert bad["energy_j_per_sample"] == {"mean": None, "low": None, "high": None}
    assert why in bad["damaged"] and why in bad["not_valid"][-1]
    assert by["baseline"]["damaged"] is None and by["onnx"]["damaged"] is None
    line, pick = body["damaged"]  # int8-dynamic is the stored recommended variant
    assert line.startswith("int8-dynamic: its stored energy per sample is not usable: ")
    assert why in line and line.endswith("a damaged record, not drawn")
    assert pick.startswith("the stored recommended variant int8-dynamic is a damaged variant")
    assert body["recommended"] is None and not bad["recommended"]
    assert listed["damaged"] == body["damaged"]
    assert svg.status_code == 200, svg.text
    assert point_labels(svg.text) == ["baseline", "prune-unstructured:0.5"]
    text = " ".join(re.findall(r"<text[^>]*>([^<]*)</text>", svg.text))
    assert "left out: 1 variant whose stored energy per sample is not usable" in text
    assert "int8-dynamic" in text
    assert all(0.0 <= t <= 100.0 for t in _ticks(svg.text)), _ticks(svg.text)


def test_a_study_with_every_j_per_sample_damaged_is_not_drawn_and_says_why(
    tmp_path: Path
) -> None:
    db, sid = _study_db(tmp_path, -1.0, which=(0, 1, 2))
    with TestClient(create_app(db), base_url="http://localhost") as c:
        svg = c.get(f"/api/compress/{sid}/front.svg")
        assert len(c.get(f"/api/compress/{sid}").json()["damaged"]) == 4  # and the pick's
    assert svg.status_code == 404
    assert "no benchmarked variant has a usable energy per sample" in svg.json()["error"]


def test_a_j_per_sample_of_zero_is_a_result_and_is_drawn(tmp_path: Path) -> None:
    """0 J/sample is what the harness stores when every repetition was at or below idle."""
    db = tmp_path / "runs.db"
    sid = results_db(db)["study"]
    s = study().to_dict(1.0, None)
    s["variants"][1]["bench"]["energy_j_per_sample"].update(mean=0.0, low=0.0, high=0.0)
    set_window(db, sid, "study", s)
    with TestClient(create_app(db), base_url="http://localhost") as c:
        body = c.get(f"/api/compress/{sid}").json()
        svg = c.get(f"/api/compress/{sid}/front.svg")
    assert body["damaged"] == [] and body["variants"][1]["energy_j_per_sample"]["mean"] == 0.0
    assert "int8-dynamic" in point_labels(svg.text)


def test_an_interval_that_does_not_hold_its_mean_draws_no_bar(tmp_path: Path) -> None:
    db = tmp_path / "runs.db"
    sid = results_db(db)["study"]
    s = study().to_dict(1.0, None)
    s["variants"][1]["bench"]["energy_j_per_sample"].update(low=0.0045)  # mean 0.004
    set_window(db, sid, "study", s)
    with TestClient(create_app(db), base_url="http://localhost") as c:
        svg = c.get(f"/api/compress/{sid}/front.svg").text
    assert svg.count('class="errorbar"') == 2  # baseline's and the pruned one's
    assert "no bar: the stored 95 % interval of J/sample is not usable" in svg
    assert "int8-dynamic" in point_labels(svg)


@pytest.mark.parametrize("value,why", DAMAGED, ids=IDS)
def test_a_damaged_tuning_setting_is_marked_and_left_out_of_its_figure(
    tmp_path: Path, value: Any, why: str
) -> None:
    db = tmp_path / "runs.db"
    tid = results_db(db)["tune"]
    t = tuning().to_dict()
    t["points"][1]["energy_j_per_sample"] = value
    set_window(db, tid, "tune", t)
    with TestClient(create_app(db), base_url="http://localhost") as c:
        body = c.get(f"/api/tune/{tid}").json()
        (listed,) = [x for x in c.get("/api/compress").json()["tunings"] if x["run_id"] == tid]
        svg = c.get(f"/api/tune/{tid}/frontier.svg")
    bad = body["points"][1]
    assert bad["energy_j_per_sample"] is None and why in bad["damaged"]
    (line,) = body["damaged"]
    assert line.startswith("threads=1 batch=64 fp32: its stored energy per sample is not "
                           "usable") and why in line
    assert listed["damaged"] == body["damaged"]
    assert svg.status_code == 200, svg.text
    assert point_labels(svg.text) == ["threads=1 batch=1 fp32", "threads=2 batch=16 fp32"]
    assert "left out: 1 setting whose stored energy per sample is not usable" in svg.text
    assert all(0.0 <= t <= 100.0 for t in _ticks(svg.text)), _ticks(svg.text)


def test_a_tuning_setting_at_zero_j_per_sample_is_said_not_drawn(tmp_path: Path) -> None:
    db = tmp_path / "runs.db"
    tid = results_db(db)["tune"]
    t = tuning().to_dict()
    t["points"][1]["energy_j_per_sample"] = 0.0
    set_window(db, tid, "tune", t)
    with TestClient(create_app(db), base_url="http://localhost") as c:
        body = c.get(f"/api/tune/{tid}").json()
        svg = c.get(f"/api/tune/{tid}/frontier.svg").text
    assert body["damaged"] == [] and body["points"][1]["energy_j_per_sample"] == 0.0
    assert "not drawn: 1 setting at 0 J/sample or with no positive p90 latency" in svg


def test_an_implausibly_large_benchmark_is_not_ranked(tmp_path: Path) -> None:
    db = tmp_path / "runs.db"
    results_db(db)
    with Store(db) as store:
        add_bench(store, result("mlp-huge", 1e308), START + 50.0)
    with TestClient(create_app(db), base_url="http://localhost") as c:
        body = c.get("/api/bench").json()
    names = [e["name"] for g in body["groups"] for e in g["entries"]]
    assert "mlp-huge" not in names and body["skipped"] == 1
