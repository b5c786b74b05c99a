"""A stored pick (a tuning's ``best``, a study's ``recommended``) that names a damaged
record (a p90 latency, J/sample or quality that is not usable) is never shown as the
pick: ``/api/tune/ID``, ``/api/compress/ID`` and the list give no pick and no entry
flagged best, recommended or on the front, and a line in ``damaged`` says the stored pick
is a damaged record. The figure leaves it out already (not drawn, so not ringed)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.server._results import results_db, set_window, study, tuning
from wattwise.server import create_app

BEST = "threads=2 batch=16 fp32"
#: (field, stored value, why) for the stored best setting.
#: (a NaN has no JSON form: a record holding one is read by no output at all,
#: ``test_results_stored_json.py``; an infinity is stored as 1e999, a JSON number)
TUNE_DAMAGE = [
    ("latency_p90_ms", float("inf"), "its stored latency is not a finite number (stored as inf)"),
    ("latency_p90_ms", "fast", "its stored latency is not a number (stored as 'fast')"),
    ("latency_p90_ms", 10**400,
     "its stored latency is not a finite number (stored as more than 1e+308)"),
    ("energy_j_per_sample", float("inf"),
     "its stored energy per sample is not usable: not a finite number (stored as inf)"),
    ("energy_j_per_sample", 1e308, "its stored energy per sample is not usable: implausibly "
     "large (1e+308 J/sample, more than 1e+15 J, the most one stored run may hold)"),
]
TUNE_IDS = ["latency-inf", "latency-text", "latency-huge-int", "energy-inf", "energy-huge"]


def _tunings(db: Path, tid: int) -> tuple[dict[str, Any], dict[str, Any]]:
    """``/api/tune/ID`` and the tuning's entry in ``/api/compress``."""
    with TestClient(create_app(db), base_url="http://localhost") as c:
        body = c.get(f"/api/tune/{tid}").json()
        (listed,) = [x for x in c.get("/api/compress").json()["tunings"] if x["run_id"] == tid]
    return body, listed


@pytest.mark.parametrize("field,value,why", TUNE_DAMAGE, ids=TUNE_IDS)
def test_a_damaged_best_setting_is_not_the_pick_and_says_so(
    tmp_path: Path, field: str, value: Any, why: str
) -> None:
    db = tmp_path / "runs.db"
    tid = results_db(db)["tune"]
    t = tuning().to_dict()
    assert t["best"] == BEST and t["points"][2][field] is not None
    t["points"][2][field] = value
    set_window(db, tid, "tune", t)
    body, listed = _tunings(db, tid)
    by = {p["label"]: p for p in body["points"]}
    assert by[BEST]["damaged"] == why
    assert by[BEST]["best"] is False and by[BEST]["on_frontier"] is False
    assert not any(p["best"] for p in body["points"])
    assert body["best"] is None and listed["pick"] is None
    pick = f"the stored best setting {BEST} is a damaged setting ({why}): not shown as the pick"
    assert body["damaged"] == [f"{BEST}: {why}: a damaged record, not drawn", pick]
    assert listed["damaged"] == body["damaged"]
    # the settings whose figures are usable keep their place on the frontier
    assert by["threads=1 batch=1 fp32"]["on_frontier"] is True


def test_a_damaged_setting_on_the_stored_frontier_is_not_on_it(tmp_path: Path) -> None:
    db = tmp_path / "runs.db"
    tid = results_db(db)["tune"]
    t = tuning().to_dict()
    t["points"][0]["latency_p90_ms"] = float("inf")  # on the stored frontier, not the best
    set_window(db, tid, "tune", t)
    body, listed = _tunings(db, tid)
    assert [p["on_frontier"] for p in body["points"]] == [False, True, True]
    assert [p["best"] for p in body["points"]] == [False, False, True]
    assert body["best"] == BEST and listed["pick"] == BEST
    assert len(body["damaged"]) == 1  # the setting's line alone: the pick is sound


def test_a_sound_best_setting_is_the_pick(tmp_path: Path) -> None:
    db = tmp_path / "runs.db"
    tid = results_db(db)["tune"]
    body, listed = _tunings(db, tid)
    assert body["best"] == BEST and listed["pick"] == BEST and body["damaged"] == []
    assert [p["best"] for p in body["points"]] == [False, False, True]
    assert all(p["on_frontier"] for p in body["points"])


STUDY_DAMAGE = [
    ("quality", float("inf"), "its stored quality is not a finite number (stored as inf)"),
    ("energy", "abc",
     "its stored energy per sample is not usable: not a number (stored as 'abc')"),
]


@pytest.mark.parametrize("field,value,why", STUDY_DAMAGE, ids=["quality", "energy"])
def test_a_damaged_recommended_variant_is_not_the_pick_and_says_so(
    tmp_path: Path, field: str, value: Any, why: str
) -> None:
    db = tmp_path / "runs.db"
    sid = results_db(db)["study"]
    s = study().to_dict(1.0, None)
    assert s["recommended"] == "int8-dynamic" == s["variants"][1]["label"]
    if field == "quality":
        s["variants"][1]["quality"] = value
    else:
        s["variants"][1]["bench"]["energy_j_per_sample"].update(mean=value, low=value)
    set_window(db, sid, "study", s)
    with TestClient(create_app(db), base_url="http://localhost") as c:
        body = c.get(f"/api/compress/{sid}").json()
        (listed,) = [x for x in c.get("/api/compress").json()["studies"] if x["run_id"] == sid]
    by = {v["label"]: v for v in body["variants"]}
    assert by["int8-dynamic"]["recommended"] is False
    assert by["int8-dynamic"]["on_front"] is False and by["baseline"]["on_front"] is True
    assert body["recommended"] is None and listed["pick"] is None
    assert body["damaged"] == [
        f"int8-dynamic: {why}: a damaged record, not drawn",
        f"the stored recommended variant int8-dynamic is a damaged variant ({why}): "
        "not shown as recommended"]
    assert listed["damaged"] == body["damaged"]
