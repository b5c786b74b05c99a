"""A plan's run is read as its own record reads it: the plans list and the plan's page
give the same figures, and a stored total or emissions the record's rule sets aside
(a key held twice, emissions past what the total could emit) is no figure there, said
(the list read the summary with Python's plain reader, the last of a key held twice,
and both showed emissions every other output called not usable)."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests._damage import tracked_run
from tests.server._results import PLAN_TAGS, tag_run


def _with(db: Path, rid: int, text: str) -> None:
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE runs SET summary_json = ? WHERE id = ?", (text, rid))
    conn.close()


@pytest.mark.parametrize("how", ["emissions past the total", "total twice", "sound"])
def test_the_plans_list_and_page_read_the_record_alike(tmp_path: Path, how: str) -> None:
    from wattwise.server import create_app

    db = tmp_path / "r.db"
    rid = tracked_run(db)
    tag_run(db, rid, PLAN_TAGS)
    with sqlite3.connect(db) as conn:
        text = conn.execute("SELECT summary_json FROM runs WHERE id = ?", (rid,)).fetchone()[0]
    conn.close()
    summary = json.loads(text)
    if how == "emissions past the total":
        summary["emissions"].update(emissions_g=0.5, low_g=0.5, high_g=0.5)
        _with(db, rid, json.dumps(summary))
    elif how == "total twice":
        _with(db, rid, text[:-1] + ', "energy_j": 40.0}')
    with TestClient(create_app(db), base_url="http://127.0.0.1") as client:
        (listed,) = client.get("/api/plans").json()["plans"]
        page = client.get(f"/api/plans/{rid}").json()
    for key in ("energy_j", "emissions_g", "saving_g", "not_valid"):
        assert listed[key] == page[key], (key, listed[key], page[key])
    assert listed["energy_j"] == pytest.approx(summary["energy_j"], rel=1e-12)
    if how == "emissions past the total":
        assert listed["emissions_g"] is None and listed["saving_g"] is None
        assert any(n.startswith("the stored emissions are not usable: 0.5 gCO2eq")
                   for n in listed["not_valid"]), listed["not_valid"]
    else:
        assert listed["emissions_g"] == pytest.approx(summary["emissions"]["emissions_g"])
