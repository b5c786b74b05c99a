"""A page sorted by energy or emissions, asked for before the runs index is built, is read
through SQLite's index on the stored figure (``_sql_pages._usable_ids``), each
run it walks judged by the runs index's own rule: the same page and total as the index
gives once built, damaged figures (1e308, negative, a stored ``true``, text, null, a
400-digit integer, emissions priced from an unusable total) sorted with the runs that
have none, wherever SQLite's index puts them. It once waited seconds for the whole
index (100,000 runs)."""

from __future__ import annotations

import itertools
import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from wattwise.records import schema
from wattwise.records.store import Store
from wattwise.server import _sql_pages, _usable_sql
from wattwise.server._sql import Reads
from wattwise.server._sql_pages import SqlPages
from wattwise.server.runs_index import RunsIndex, RunsQuery

START = 1.7e9
#: Usable figures, ties among them (500 as an integer and as a float, 0.0 and -0.0).
USABLE = [120.5, 500, 500.0, 7.25, 0.0, -0.0, 3e4, 120.5, 88.0, 9.5e5, 500.0, 1.0, 42.0,
          6.5, 2e3, 77.0, 31.0, 120.5, 2.5, 640.0]
#: Stored totals that are not usable, from the top of SQLite's order to its bottom and
#: those it holds no number for (as raw JSON, and the range stored with them).
DAMAGED_ENERGY = ["1e308", "1e16", "900000", "-5", "true", "1" + "0" * 400, '"abc"',
                  "null"]
#: Stored emissions that are not usable beside a usable total (raw JSON of the block).
DAMAGED_EMISSIONS = ['{"emissions_g": 1e308, "low_g": 0, "high_g": 1e308}',
                     '{"emissions_g": 5e5, "low_g": 1, "high_g": 2}',
                     '{"emissions_g": -3, "low_g": -4, "high_g": 0}',
                     '{"emissions_g": true}', '"x"', "null", '{"low_g": 1}']


def _summary(energy: str, emissions: str | None, low: float = 0.0, high: float = 1e15) -> str:
    """A stored summary as raw JSON (so a stored ``true`` or 400-digit integer stays so)."""
    block = "" if emissions is None else f', "emissions": {emissions}'
    return (f'{{"energy_j": {energy}, "low_j": {low}, "high_j": {high},'
            f' "kind": "measured"{block}}}')


def _grams(energy: float) -> str:
    g = float(energy) / 3.6e6 * 400.0
    return json.dumps({"emissions_g": g, "low_g": g * 0.9, "high_g": g * 1.1})


def _db(tmp_path: Path) -> Path:
    """Usable, damaged and missing figures, with several statuses and names."""
    db = tmp_path / "runs.db"
    with Store(db) as store:
        seed = store.create_run(name="seed", started_unix_s=START, host={"hostname": "h"},
                                hardware={}, versions={}, sensors=[])
        store.finish_run(seed, ended_unix_s=START + 1, status="finished", summary={})
    summaries: list[str | None] = []
    for k, e in enumerate(USABLE):
        # a few runs without emissions, and a run whose emissions tie another's
        summaries.append(_summary(json.dumps(e), None if k % 7 == 3 else _grams(e),
                                  low=float(e) - 1, high=float(e) + 1))
    for raw in DAMAGED_ENERGY:  # emissions priced from them: not usable either
        summaries.append(_summary(raw, _grams(10.0), high=1e15 if raw != "900000" else 2.0))
    for raw in DAMAGED_EMISSIONS:  # a usable total beside them
        summaries.append(_summary("250.0", raw))
    summaries += [None] * 4 + ["not json", "[1, 2]"]  # lost or running; damaged records
    statuses = ["finished", "failed", "interrupted", "lost", "finished"]
    with sqlite3.connect(db) as conn:
        cols = [c[1] for c in conn.execute("PRAGMA table_info(runs)")][1:]
        row = conn.execute(f"SELECT {', '.join(cols)} FROM runs WHERE id = ?",
                           (seed,)).fetchone()
        base = dict(zip(cols, row, strict=True))
        order = list(range(len(summaries)))
        order = order[::3] + order[1::3] + order[2::3]  # ids not in the figures' order
        rows: list[tuple[Any, ...]] = []
        for n, k in enumerate(order):
            s = summaries[k]
            status = "running" if s is None else statuses[n % len(statuses)]
            values = {**base, "name": f"job-{n % 3}-{n}", "status": status,
                      "started_unix_s": START + n, "summary_json": s,
                      "ended_unix_s": None if s is None else START + n + 9}
            rows.append(tuple(values[c] for c in cols))
        conn.executemany(f"INSERT INTO runs ({', '.join(cols)}) VALUES"
                         f" ({', '.join('?' * len(cols))})", rows)
    return db


def _first_in_sqlite(db: Path, sort: str, desc: bool) -> Any:
    """The stored figure SQLite's index puts first in ``sort`` order."""
    key = schema.SORT_KEYS[sort]
    with sqlite3.connect(db) as conn:
        return conn.execute(f"SELECT {key} FROM runs WHERE {schema.VALUED[sort]} ORDER BY"
                            f" {key} {'DESC' if desc else 'ASC'} LIMIT 1").fetchone()[0]


@pytest.fixture(scope="module")
def damaged(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _db(tmp_path_factory.mktemp("sorted"))


def test_the_damaged_figures_are_at_both_ends_of_sqlites_order(damaged: Path) -> None:
    # what the pages below must skip: SQLite's index orders them among the figures
    assert _first_in_sqlite(damaged, "energy", True) == 1e308
    assert _first_in_sqlite(damaged, "energy", False) == -5
    assert _first_in_sqlite(damaged, "emissions", True) == 1e308
    assert _first_in_sqlite(damaged, "emissions", False) == -3


@pytest.mark.parametrize("sort", ["energy", "emissions"])
@pytest.mark.parametrize("desc", [True, False])
@pytest.mark.parametrize("status", ["", "finished", "failed", "lost", "running"])
@pytest.mark.parametrize("q", ["", "job-1", "7"])
def test_a_page_before_the_index_is_the_index_page(damaged: Path, sort: str, desc: bool,
                                                    status: str, q: str) -> None:
    reads = Reads(damaged)
    try:
        pages = SqlPages(reads.rows, RunsIndex(reads.rows), 30.0)
        index = RunsIndex(reads.rows)
        index.update()
        for offset, limit in itertools.chain(
                ((o, 7) for o in (0, 1, 5, 13, 20, 26, 33, 45, 60)), [(0, 50), (3, 1000)]):
            query = RunsQuery(limit=limit, offset=offset, q=q, status=status, sort=sort,
                              desc=desc)
            got = pages.page_ids(query)
            assert got is not None, query
            assert got == index.page(query), query
    finally:
        reads.close()


def test_the_first_page_does_not_wait_for_the_index(damaged: Path) -> None:
    reads = Reads(damaged)
    try:
        query = RunsQuery(sort="energy", desc=True, limit=5)
        rows, total = reads.runs_page(query)
        assert not reads._index.built.is_set()  # answered before the index was built
        index = RunsIndex(reads.rows)
        ids, index_total = index.page(query)
    finally:
        reads.close()
    assert [int(r["id"]) for r in rows] == ids and total == index_total
    assert len(ids) == 5


def test_a_long_walk_waits_for_the_index_where_the_sql_rule_differs(
        damaged: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # past the walk's cap, SQLite counts with the rule written as SQL
    # (test_sql_pages_deep.py); where that differs from the runs index's, pages wait
    monkeypatch.setattr(_sql_pages, "_WALK_MAX", 4)
    monkeypatch.setattr(_usable_sql, "agrees", lambda: False)
    reads = Reads(damaged)
    try:
        pages = SqlPages(reads.rows, RunsIndex(reads.rows), 30.0)
        # three damaged figures at the top of SQLite's order: the walk passes the cap
        assert pages.page_ids(RunsQuery(sort="energy", desc=True, limit=2)) is None
        assert pages.page_ids(RunsQuery(sort="energy", desc=True, limit=2, offset=2)) is None
        # a page the walk finds within the cap
        assert pages.page_ids(RunsQuery(sort="energy", desc=False, q="job-0-0",
                                        limit=2)) is not None
        query = RunsQuery(sort="energy", desc=True, limit=2)
        rows, total = reads.runs_page(query)  # waits for the runs index, same page
        assert reads._index.built.is_set()
        assert ([int(r["id"]) for r in rows], total) == reads._index.page(query)
    finally:
        reads.close()
