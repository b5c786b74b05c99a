"""The runs list sorted by energy sorts a run whose stored total is not usable
(``records.stored_energy``: negative, above 1e15 J, outside its own range, a stored
``true``, text, null) as a run without a total: after the others, by id, in both
directions, as every output refuses the figure. A damaged 1e308 J record came first and
a -5 J one last. SQLite's energy index cannot tell a total outside its own range without
reading every summary, so a page by energy waits for the runs index."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from wattwise.records.store import Store
from wattwise.server._sql import Reads, RunsQuery
from wattwise.server.app import create_app

#: Stored totals every output refuses, each with the range 47.85-74.52 J.
DAMAGED: list[Any] = [1e308, 1e16, 9.99e14, 200.0, 10.0, -5.0, -0.0, True, None, "58.7",
                      [1], {"a": 1}]
#: Usable totals, inside their range.
GOOD = [50.0, 70.0, 60.0, 55.0]


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[int], list[int]]:
    """Good runs and damaged ones mixed; the ids of each, and of one run with no summary."""
    path = tmp_path_factory.mktemp("sort") / "runs.db"
    good: list[int] = []
    damaged: list[int] = []
    with Store(path) as store:
        for i, energy in enumerate([*DAMAGED[:6], *GOOD, *DAMAGED[6:]]):
            rid = store.create_run(name=f"r{i}", started_unix_s=1000.0 + i, host={},
                                   hardware={}, sensors=[], versions={})
            store.finish_run(rid, ended_unix_s=1100.0 + i, status="finished",
                             summary={"energy_j": 1.0, "low_j": 47.85, "high_j": 74.52,
                                      "kind": "measured"})
            (good if energy in GOOD and type(energy) is float else damaged).append(rid)
            with sqlite3.connect(path) as conn:  # as a damaged file leaves it
                text = conn.execute("SELECT summary_json FROM runs WHERE id = ?",
                                    (rid,)).fetchone()[0]
                summary = {**json.loads(text), "energy_j": energy}
                conn.execute("UPDATE runs SET summary_json = ? WHERE id = ?",
                             (json.dumps(summary), rid))
    return path, good, damaged


def _expected(good: list[int], damaged: list[int], desc: bool) -> list[int]:
    energy = dict(zip(good, GOOD, strict=True))
    valued = sorted(good, key=lambda rid: (energy[rid], rid), reverse=desc)
    return valued + sorted(damaged, reverse=desc)


@pytest.mark.parametrize("desc", [True, False])
def test_the_index_sorts_an_unusable_total_as_none(
        db: tuple[Path, list[int], list[int]], desc: bool) -> None:
    path, good, damaged = db
    reads = Reads(path)
    try:
        reads.warm()
        rows, total = reads.runs_page(RunsQuery(limit=100, sort="energy", desc=desc))
        assert [r["id"] for r in rows] == _expected(good, damaged, desc)
        assert total == len(good) + len(damaged)
        # a page of a filter few runs pass sorts them alone: the same rule
        rows, _ = reads.runs_page(RunsQuery(limit=100, q="r1", sort="energy", desc=desc))
        want = [rid for rid in _expected(good, damaged, desc)
                if "r1" in f"r{rid - 1}"]
        assert [r["id"] for r in rows] == want
    finally:
        reads.close()


@pytest.mark.parametrize("desc", [True, False])
def test_a_page_by_energy_before_the_index_is_built_is_the_index_page(
        db: tuple[Path, list[int], list[int]], desc: bool) -> None:
    path, good, damaged = db
    reads = Reads(path)
    try:
        query = RunsQuery(limit=5, offset=2, sort="energy", desc=desc)
        early = reads._page_from_sql(query)
        assert early is not None
        assert [r["id"] for r in early[0]] == _expected(good, damaged, desc)[2:7]
        assert early[1] == len(good) + len(damaged)
        assert not reads._index.built.is_set()
        rows, total = reads.runs_page(query)
        assert [r["id"] for r in rows] == _expected(good, damaged, desc)[2:7]
        assert total == len(good) + len(damaged)
    finally:
        reads.close()


def test_the_api_sorts_so(db: tuple[Path, list[int], list[int]]) -> None:
    path, good, damaged = db
    with TestClient(create_app(path), base_url="http://127.0.0.1") as c:
        for order, desc in (("desc", True), ("asc", False)):
            got = c.get(f"/api/runs?limit=100&sort=energy&order={order}").json()["runs"]
            assert [r["id"] for r in got] == _expected(good, damaged, desc), order
