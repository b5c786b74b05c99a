"""A stored tuning setting whose p90 latency is not a finite number (NaN, infinity, text,
an integer too large for a float) is a damaged record: ``/api/tune/ID`` names it, never
counts it as meeting the latency bound, and the figure leaves it out saying why (not as
"at 0 J/sample or with no positive p90 latency")."""

from __future__ import annotations

import html
import re
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests._damage import point_labels
from tests.server._results import results_db, set_window, tuning
from wattwise.server import create_app

# (a NaN has no JSON form: a record holding one cannot be read at all, as SQLite reads
# it: test_results_stored_json.py)
LATE = [(float("inf"), "not a finite number (stored as inf)"),
        (10**400, "not a finite number (stored as more than 1e+308)"),
        ("fast", "not a number (stored as 'fast')"),
        # finite, and no latency a call could have: it was shown as a measurement
        (1e308, "1e+308 ms, longer than any run may last (1e+09 s)")]


@pytest.mark.parametrize("value,why", LATE, ids=["inf", "huge-int", "text", "1e308"])
def test_a_damaged_p90_latency_is_named_and_does_not_meet_the_bound(
    tmp_path: Path, value: Any, why: str
) -> None:
    db = tmp_path / "runs.db"
    tid = results_db(db)["tune"]
    t = tuning().to_dict()
    assert t["points"][0]["meets_bound"] is True
    t["points"][0]["latency_p90_ms"] = value
    set_window(db, tid, "tune", t)
    with TestClient(create_app(db), base_url="http://localhost") as c:
        body = c.get(f"/api/tune/{tid}").json()
        (listed,) = [x for x in c.get("/api/compress").json()["tunings"] if x["run_id"] == tid]
        svg = c.get(f"/api/tune/{tid}/frontier.svg")
    p = body["points"][0]
    line = f"its stored latency is {why}"
    assert p["latency_p90_ms"] is None and p["meets_bound"] is False
    assert p["not_valid"] == [f"{line}: a damaged record"]
    assert p["damaged"] == line
    assert p["energy_j_per_sample"] == 0.02  # its energy is still shown
    assert body["damaged"] == [f"threads=1 batch=1 fp32: {line}: a damaged record, not drawn"]
    assert listed["damaged"] == body["damaged"]
    assert svg.status_code == 200, svg.text
    assert point_labels(svg.text) == [
        "threads=1 batch=64 fp32", "threads=2 batch=16 fp32"]
    assert "no positive p90 latency" not in svg.text
    notes = " ".join(html.unescape(t) for t in
                     re.findall(r'<text class="note"[^>]*>([^<]*)</text>', svg.text))
    assert ("left out: 1 setting whose stored p90 latency is not usable (a damaged "
            f"record): threads=1 batch=1 fp32: {line}") in notes, notes


def test_one_damaged_energy_is_one_line(tmp_path: Path) -> None:
    """It was counted twice ("2 figure(s) not valid"): the figure read as not valid, and
    the stored energy judged not usable."""
    db = tmp_path / "runs.db"
    tid = results_db(db)["tune"]
    t = tuning().to_dict()
    t["points"][0]["energy_j_per_sample"] = -1
    set_window(db, tid, "tune", t)
    with TestClient(create_app(db), base_url="http://localhost") as c:
        p = c.get(f"/api/tune/{tid}").json()["points"][0]
    assert p["energy_j_per_sample"] is None
    assert len(p["not_valid"]) == 1 and "negative (-1 J/sample)" in p["not_valid"][0], p
