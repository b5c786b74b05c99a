"""A stored compression study whose quality figures are damaged (a variant's quality as
text, a quality floor as text) or a tuning whose latency bound is: the API marks what is
damaged and says why, and the figure leaves the variant out (the others drawn) or draws
no floor or bound line, with a note saying so; never a 404 that names no field, never a
silent null."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests._damage import point_labels
from tests.server._results import results_db, set_window, study, tuning
from wattwise.server import create_app

BAD_QUALITY = [("high", "not a number (stored as 'high')"),
               (True, "not a number (stored as 'True')"),
               (float("inf"), "not a finite number (stored as inf)"),
               (None, "missing (stored as null)")]
IDS = ["text", "bool", "inf", "null"]


def _texts(svg: str) -> str:
    return " ".join(re.findall(r"<text[^>]*>([^<]*)</text>", svg))


def _study(tmp_path: Path, **change: Any) -> tuple[Path, int, dict[str, Any]]:
    db = tmp_path / "runs.db"
    sid = results_db(db)["study"]
    s = study().to_dict(1.0, None)
    for key, value in change.items():
        if key == "quality_floor":
            s[key] = value
        else:  # a field of variant int8-dynamic
            s["variants"][1][key] = value
    set_window(db, sid, "study", s)
    return db, sid, s


@pytest.mark.parametrize("value,why", BAD_QUALITY, ids=IDS)
def test_a_damaged_quality_marks_the_variant_and_leaves_it_out_of_the_figure(
    tmp_path: Path, value: Any, why: str
) -> None:
    db, sid, s = _study(tmp_path, quality=value)
    with TestClient(create_app(db), base_url="http://localhost") as c:
        body = c.get(f"/api/compress/{sid}").json()
        (listed,) = [x for x in c.get("/api/compress").json()["studies"] if x["run_id"] == sid]
        svg = c.get(f"/api/compress/{sid}/front.svg")
    by = {v["label"]: v for v in body["variants"]}
    bad = by["int8-dynamic"]
    assert bad["quality"] is None
    assert bad["damaged"] == f"its stored quality is {why}"
    assert bad["damaged"] in bad["not_valid"]
    # its J/sample is a usable figure: still shown
    assert bad["energy_j_per_sample"]["mean"] == s["variants"][1]["bench"][
        "energy_j_per_sample"]["mean"]
    assert all(by[k]["damaged"] is None for k in by if k != "int8-dynamic")
    assert body["damaged"] == [f"int8-dynamic: its stored quality is {why}: a damaged "
                               "record, not drawn",
                               "the stored recommended variant int8-dynamic is a damaged "
                               f"variant (its stored quality is {why}): not shown as recommended"]
    assert listed["damaged"] == body["damaged"]
    assert svg.status_code == 200, svg.text
    assert "int8-dynamic" not in point_labels(svg.text)
    assert point_labels(svg.text) == ["baseline", "prune-unstructured:0.5"]  # onnx failed
    text = _texts(svg.text)
    assert "left out: 1 variant whose stored quality is not usable (a damaged record): " \
        "int8-dynamic: its stored quality is" in text


def test_a_quality_change_stored_as_text_is_damaged_too(tmp_path: Path) -> None:
    db, sid, _ = _study(tmp_path, quality_delta="-0.5")
    with TestClient(create_app(db), base_url="http://localhost") as c:
        body = c.get(f"/api/compress/{sid}").json()
        svg = c.get(f"/api/compress/{sid}/front.svg")
    assert body["variants"][1]["damaged"] == \
        "its stored quality change is not a number (stored as '-0.5')"
    assert svg.status_code == 200 and "int8-dynamic" not in point_labels(svg.text)


def test_a_throughput_stored_as_text_leaves_out_its_variant_alone(tmp_path: Path) -> None:
    db = tmp_path / "runs.db"
    sid = results_db(db)["study"]
    s = study().to_dict(1.0, None)
    s["variants"][1]["bench"]["throughput"]["std"] = "wide"
    set_window(db, sid, "study", s)
    with TestClient(create_app(db), base_url="http://localhost") as c:
        body = c.get(f"/api/compress/{sid}").json()
        svg = c.get(f"/api/compress/{sid}/front.svg")
    assert "another type than the record format gives it" in body["variants"][1]["damaged"]
    assert svg.status_code == 200, svg.text
    assert point_labels(svg.text) == ["baseline", "prune-unstructured:0.5"]
    assert "left out: 1 variant whose stored figures are not usable" in _texts(svg.text)


def test_a_failed_variant_with_a_damaged_quality_does_not_stop_the_figure(
    tmp_path: Path
) -> None:
    db = tmp_path / "runs.db"
    sid = results_db(db)["study"]
    s = study().to_dict(1.0, None)
    (failed,) = [v for v in s["variants"] if v["status"] != "ok"]
    failed["quality"] = "n/a"
    set_window(db, sid, "study", s)
    with TestClient(create_app(db), base_url="http://localhost") as c:
        svg = c.get(f"/api/compress/{sid}/front.svg")
    assert svg.status_code == 200, svg.text
    assert "failed: onnx" in _texts(svg.text)


def test_a_damaged_quality_floor_is_named_in_the_api_and_under_the_figure(
    tmp_path: Path
) -> None:
    db, sid, _ = _study(tmp_path, quality_floor="x")
    with TestClient(create_app(db), base_url="http://localhost") as c:
        body = c.get(f"/api/compress/{sid}").json()
        (listed,) = [x for x in c.get("/api/compress").json()["studies"] if x["run_id"] == sid]
        svg = c.get(f"/api/compress/{sid}/front.svg")
    assert body["quality_floor"] is None
    line = ("the stored quality floor is not a number (stored as 'x'): a damaged record, "
            "no floor line drawn")
    assert body["damaged"] == [line] and listed["damaged"] == [line]
    assert all(v["damaged"] is None for v in body["variants"])
    assert svg.status_code == 200, svg.text
    assert 'class="floor"' not in svg.text
    assert "no floor line: the stored quality floor is not a number (stored as 'x'): " \
        "a damaged record" in _texts(svg.text)
    assert len(point_labels(svg.text)) == 3


def test_a_null_quality_floor_is_no_floor_and_no_damage(tmp_path: Path) -> None:
    db, sid, _ = _study(tmp_path, quality_floor=None)
    with TestClient(create_app(db), base_url="http://localhost") as c:
        body = c.get(f"/api/compress/{sid}").json()
        svg = c.get(f"/api/compress/{sid}/front.svg").text
    assert body["quality_floor"] is None and body["damaged"] == []
    assert 'class="floor"' not in svg and "floor" not in _texts(svg)


@pytest.mark.parametrize("value,why", [("2ms", "not a number (stored as '2ms')"),
                                       (-1.0, "not positive (-1 ms)")], ids=["text", "neg"])
def test_a_damaged_latency_bound_is_said_in_the_api_and_under_the_figure(
    tmp_path: Path, value: Any, why: str
) -> None:
    db = tmp_path / "runs.db"
    tid = results_db(db)["tune"]
    t = tuning().to_dict()
    t["bound"]["max_latency_p90_ms"] = value
    set_window(db, tid, "tune", t)
    with TestClient(create_app(db), base_url="http://localhost") as c:
        body = c.get(f"/api/tune/{tid}").json()
        svg = c.get(f"/api/tune/{tid}/frontier.svg")
    assert body["bound"]["max_latency_p90_ms"] is None
    assert any(b.startswith("latency bound") for b in body["not_valid"]), body["not_valid"]
    assert svg.status_code == 200, svg.text
    assert 'class="floor"' not in svg.text
    assert f"no bound line: the stored latency bound is {why}: a damaged record" \
        in _texts(svg.text)
