"""A page of the runs list sorted by emissions waits for the runs index, as one by
energy does (``_sql_pages.WAITS_FOR_INDEX``): SQLite's index on the stored figure put a
stored 1e308 g first; the index sorts stored emissions that are not usable with the
runs that have none, both ways."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from tests.server._runs import START, demo_like, fixture_db
from wattwise.records.store import Store
from wattwise.server._sql import Reads, RunsQuery


def _damaged(tmp_path: Path) -> tuple[Path, dict[str, int]]:
    """``fixture_db`` with two more finished runs (half and a quarter of the demo's
    power), and the demo's and the smaller run's stored emissions damaged."""
    db = tmp_path / "runs.db"
    ids = fixture_db(db)
    with Store(db) as store:
        ids["half"] = demo_like(store, "half", START + 5000.0, 0.5)
        ids["quarter"] = demo_like(store, "quarter", START + 6000.0, 0.25)
    with sqlite3.connect(db) as conn:
        for rid, value in ((ids["smaller"], 1e308), (ids["demo"], "abc")):
            row = conn.execute("SELECT summary_json FROM runs WHERE id = ?", (rid,)).fetchone()
            s: dict[str, Any] = json.loads(row[0])
            s["emissions"]["emissions_g"] = value
            conn.execute("UPDATE runs SET summary_json = ? WHERE id = ?", (json.dumps(s), rid))
    return db, ids


@pytest.mark.parametrize("desc", [True, False])
def test_an_emissions_sort_waits_for_the_index(tmp_path: Path, desc: bool) -> None:
    db, ids = _damaged(tmp_path)
    query = RunsQuery(limit=50, sort="emissions", desc=desc)
    reads = Reads(db)
    try:
        assert reads._pages.has_sort_indexes()
        assert reads._pages.page_ids(query) is not None
        early = [int(r["id"]) for r in reads.runs_page(query)[0]]
        reads.warm()
        warmed = [int(r["id"]) for r in reads.runs_page(query)[0]]
    finally:
        reads.close()
    assert early == warmed
    # the runs with usable emissions by them, then the others (damaged or none) by id
    valued = [ids["half"], ids["quarter"]] if desc else [ids["quarter"], ids["half"]]
    others = sorted((ids[k] for k in ("demo", "smaller", "failed", "lost")), reverse=desc)
    assert early == valued + others
