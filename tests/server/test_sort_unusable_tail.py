"""``/api/runs?sort=energy|emissions``: every run whose stored figure is absent or not
usable sorts in the tail group, by id, in both orders. A run whose total was stored as
null (so its stored emissions, priced from it, are not usable either) was once ranked
first by emissions in descending order."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.server._runs import fixture_db
from wattwise.server.app import create_app


@pytest.mark.parametrize("sort", ["energy", "emissions"])
@pytest.mark.parametrize("order", ["desc", "asc"])
def test_a_total_stored_as_null_sorts_with_the_unranked(tmp_path: Path, sort: str,
                                                        order: str) -> None:
    db = tmp_path / "runs.db"
    ids = fixture_db(db)
    with sqlite3.connect(db) as conn:
        s = json.loads(conn.execute("SELECT summary_json FROM runs WHERE id = ?",
                                    (ids["smaller"],)).fetchone()[0])
        s["energy_j"] = None
        conn.execute("UPDATE runs SET summary_json = ? WHERE id = ?",
                     (json.dumps(s), ids["smaller"]))
    with TestClient(create_app(db), base_url="http://localhost") as c:
        rows = c.get(f"/api/runs?sort={sort}&order={order}&limit=50").json()["runs"]
    order_ids = [r["id"] for r in rows]
    # the demo run alone has a usable stored figure: it comes first, the rest after it
    assert order_ids[0] == ids["demo"]
    assert set(order_ids[1:]) == {ids["smaller"], ids["failed"], ids["lost"]}
    assert order_ids[1:] == sorted(order_ids[1:], reverse=order == "desc")
