"""A page sorted by energy or emissions far down the order (past ``_sql_pages._WALK_MAX``
runs), asked for before the runs index is built, is counted inside SQLite by the runs
index's rule written as SQL (``_usable_sql.usable``): the same page and total as the
built index, damaged figures at both ends of SQLite's order sorted with the runs that
have none, without waiting for the index. It once waited seconds for it (100,000 runs).
Where the SQL rule and the index's differ, the page waits for the index."""

from __future__ import annotations

import json
import random
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from wattwise.server import _sql_pages, _usable_sql, unsure_kept
from wattwise.server._sql import Reads
from wattwise.server._sql_pages import SqlPages
from wattwise.server.runs_index import RunsIndex, RunsQuery

START = 1.7e9
#: Usable figures: more than ``_sql_pages._WALK_MAX``, many tied (integers and floats).
N_USABLE = 2300


def _summary(energy: str, low: float, high: float, block: str | None) -> str:
    """A stored summary as raw JSON (a stored ``true`` or 400-digit integer stays so)."""
    tail = "" if block is None else f', "emissions": {block}'
    return f'{{"energy_j": {energy}, "low_j": {low}, "high_j": {high}{tail}}}'


def _block(energy: float) -> str:
    g = energy / 3.6e6 * 400.0
    return json.dumps({"emissions_g": g, "low_g": g * 0.9, "high_g": g * 1.1,
                       "energy_kwh": energy / 3.6e6, "facility_energy_kwh": energy / 3.6e6,
                       "avg_intensity_g_per_kwh": 400.0})


def _summaries() -> list[str | None]:
    rng = random.Random(7)
    out: list[str | None] = []
    for k in range(N_USABLE):
        e: float = rng.choice([rng.randrange(1, 200), round(rng.uniform(0, 1e6), 1)])
        if k % 5 == 0:
            e = float(int(e))  # ties between an integer and a float
        raw = json.dumps(int(e) if k % 2 else float(e))
        out.append(_summary(raw, float(e) * 0.9, float(e) * 1.1 + 1,
                            None if k % 11 == 3 else _block(float(e))))
    damaged_energy = ["1e308", "1e16", "-5", "true", "1" + "0" * 400, '"abc"', "null",
                      "-0.5"]
    for raw in damaged_energy:  # emissions priced from them: not usable either
        out.append(_summary(raw, 0.0, 1e15, _block(10.0)))
    out.append(_summary("900000", 0.0, 2.0, _block(900000.0)))  # outside its own range
    # a total that disagrees with the energy its emissions block was priced from
    out.append(_summary("500.0", 0.0, 1e3, _block(800.0)))
    for block in ['{"emissions_g": 1e308, "low_g": 0, "high_g": 1e308}',
                  '{"emissions_g": 5e5, "low_g": 1, "high_g": 2}',
                  '{"emissions_g": -3, "low_g": -4, "high_g": 0}',
                  '{"emissions_g": true}', '"x"', "null", '{"low_g": 1}',
                  '{"emissions_g": 1.0, "facility_energy_kwh": 1.0,'
                  ' "avg_intensity_g_per_kwh": 400.0}']:  # disagrees with its own block
        out.append(_summary("250.0", 0.0, 1e3, block))
    # a total that disagrees with the sum of its domains (not usable), and one within the
    # rule's tolerance of it that SQLite leaves to the rule to judge (usable): both ends
    for e, summed in ((9e5, 9e5 * 3), (1e-3, 1e-3 * 3), (700.0, 700.0005), (3.0, 3.0000025)):
        out.append(_summary(json.dumps(e), 0.0, 1e6, None)[:-1]
                   + f', "domains": [{{"energy_j": {summed}, "in_total": true}}]}}')
    return out + [None] * 30 + ["not json", "[1, 2]"]


@pytest.fixture(scope="module")
def deep(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The runs above, in an order that is not their figures', several statuses and names."""
    from wattwise.records.store import Store

    db = tmp_path_factory.mktemp("deep") / "runs.db"
    with Store(db) as store:
        seed = store.create_run(name="seed", started_unix_s=START, host={"hostname": "h"},
                                hardware={}, versions={}, sensors=[])
        store.finish_run(seed, ended_unix_s=START + 1, status="finished", summary={})
    summaries = _summaries()
    random.Random(3).shuffle(summaries)
    statuses = ["finished", "failed", "interrupted", "lost", "finished", "finished"]
    with sqlite3.connect(db) as conn:
        cols = [c[1] for c in conn.execute("PRAGMA table_info(runs)")][1:]
        row = conn.execute(f"SELECT {', '.join(cols)} FROM runs WHERE id = ?",
                           (seed,)).fetchone()
        base = dict(zip(cols, row, strict=True))
        rows: list[tuple[Any, ...]] = []
        for n, s in enumerate(summaries):
            values = {**base, "name": f"job-{n % 3}-{n}", "summary_json": s,
                      "status": "running" if s is None else statuses[n % len(statuses)],
                      "started_unix_s": START + n,
                      "ended_unix_s": None if s is None else START + n + 9}
            rows.append(tuple(values[c] for c in cols))
        conn.executemany(f"INSERT INTO runs ({', '.join(cols)}) VALUES"
                         f" ({', '.join('?' * len(cols))})", rows)
    return db


@pytest.fixture(scope="module")
def built(deep: Path) -> Any:
    """A runs index of ``deep``, built: the pages every answer must equal."""
    reads = Reads(deep)
    index = RunsIndex(reads.rows)
    index.update()
    yield reads, index
    reads.close()


def _offsets(n: int, limit: int) -> list[int]:
    """Offsets past the walk's cap, about the last usable figure and the end."""
    return [2000, 2001, 2150, n - 1000, n - 70, n - 41, n - 40, n - 39, n - 10, n,
            n + 5] + [o for o in range(N_USABLE - 3 * limit, N_USABLE + 2 * limit, 13)]


@pytest.mark.parametrize("sort", ["energy", "emissions"])
@pytest.mark.parametrize("desc", [True, False])
@pytest.mark.parametrize("status", ["", "finished", "lost"])
@pytest.mark.parametrize("q", ["", "job-1"])
def test_a_deep_page_before_the_index_is_the_index_page(built: Any, sort: str, desc: bool,
                                                         status: str, q: str) -> None:
    reads, index = built
    pages = SqlPages(reads.rows, RunsIndex(reads.rows), 30.0)
    total = index.page(RunsQuery(limit=1, q=q, status=status, sort=sort))[1]
    checked = 0
    for offset in _offsets(total, 50):
        query = RunsQuery(limit=50, offset=max(0, offset), q=q, status=status, sort=sort,
                          desc=desc)
        if query.offset + query.limit < _sql_pages._WALK_MAX:
            continue  # the walk's (test_sql_pages_sorted.py)
        got = pages.page_ids(query)
        assert got is not None, query  # answered, not left to the index
        assert got == index.page(query), query
        checked += 1
    assert checked > 5


@pytest.mark.parametrize("sort", ["energy", "emissions"])
@pytest.mark.parametrize("desc", [True, False])
@pytest.mark.parametrize("status", ["", "failed"])
@pytest.mark.parametrize("kept", [True, False])
def test_every_page_counted_in_sqlite_is_the_index_page(
        built: Any, sort: str, desc: bool, status: str, kept: bool,
        monkeypatch: pytest.MonkeyPatch) -> None:
    # no walk at all: every page, the first one with the damaged figures SQLite's index
    # puts first, is counted in SQLite: from the runs its triggers keep, and where they
    # are not kept (an older database), from a pass over every summary
    monkeypatch.setattr(_sql_pages, "_WALK_MAX", 1)
    if not kept:
        monkeypatch.setattr(unsure_kept, "current", lambda rows: False)
    reads, index = built
    pages = SqlPages(reads.rows, RunsIndex(reads.rows), 30.0)
    total = index.page(RunsQuery(limit=1, status=status, sort=sort))[1]
    for offset in [*range(0, total + 40, 97), total - 1]:
        for limit in (1, 40):
            query = RunsQuery(limit=limit, offset=offset, status=status, sort=sort,
                              desc=desc)
            assert pages.page_ids(query) == index.page(query), query


@pytest.mark.parametrize("url_offset", [2100, N_USABLE - 20, N_USABLE + 40])
def test_a_deep_page_does_not_wait_for_the_index(built: Any, deep: Path, url_offset: int,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    _, index = built
    reads = Reads(deep)
    try:
        def waited(query: RunsQuery) -> None:
            raise AssertionError(f"waited for the runs index: {query}")

        monkeypatch.setattr(reads._index, "page", waited)
        for sort in ("energy", "emissions"):
            query = RunsQuery(sort=sort, desc=True, offset=url_offset, limit=50)
            rows, total = reads.runs_page(query)
            assert ([int(r["id"]) for r in rows], total) == index.page(query)
            assert rows
    finally:
        reads.close()


def test_the_sql_rule_agrees_with_the_index_on_every_probe() -> None:
    assert _usable_sql.agrees()


def test_a_rule_the_sql_lacks_is_found_by_the_probes(monkeypatch: pytest.MonkeyPatch) -> None:
    # a part added to the Python rule alone (here: every figure above 999 unusable)
    real_value = _usable_sql.sort_value

    def stricter(entry: Any, field: str | None) -> Any:
        value = real_value(entry, field)
        return None if value is not None and value > 999 else value

    monkeypatch.setattr(_usable_sql, "sort_value", stricter)
    assert not _usable_sql.agrees.__wrapped__()


def test_a_deep_page_waits_where_the_rules_differ(built: Any,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    reads, _ = built
    query = RunsQuery(sort="energy", desc=True, offset=2100, limit=50)
    assert SqlPages(reads.rows, RunsIndex(reads.rows), 30.0).page_ids(query) is not None
    monkeypatch.setattr(_usable_sql, "agrees", lambda: False)  # the probes differ
    assert SqlPages(reads.rows, RunsIndex(reads.rows), 30.0).page_ids(query) is None
    # the probes agree, but a run of the page is judged otherwise: every figure usable to
    # SQL puts the damaged 1e308 J first, the runs index does not
    monkeypatch.setattr(_usable_sql, "agrees", lambda: True)
    monkeypatch.setattr(_usable_sql, "usable", lambda sort: "1")
    monkeypatch.setattr(unsure_kept, "current", lambda rows: False)  # the SQL rule asked
    monkeypatch.setattr(_sql_pages, "_WALK_MAX", 1)
    pages = SqlPages(reads.rows, RunsIndex(reads.rows), 30.0)
    assert pages.page_ids(RunsQuery(sort="energy", desc=True, limit=5)) is None


def test_the_runs_left_out_follow_the_database(tmp_path: Path, deep: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    # kept between pages, as the runs index keeps its own: a run stored as running that
    # ends with a damaged total, and a run added since with one, are left out at once
    db = tmp_path / "runs.db"
    with sqlite3.connect(deep) as src, sqlite3.connect(db) as dst:
        src.backup(dst)  # the rows still in its write-ahead log too
    monkeypatch.setattr(_sql_pages, "_WALK_MAX", 1)
    reads = Reads(db)
    try:
        pages = SqlPages(reads.rows, RunsIndex(reads.rows), 30.0)
        queries = [RunsQuery(sort=sort, desc=desc, offset=0, limit=5)
                   for sort in ("energy", "emissions") for desc in (True, False)]
        for query in queries:
            assert pages.page_ids(query) is not None
        assert reads.rows("SELECT count(*) FROM runs")[0][0] > N_USABLE
        with sqlite3.connect(db) as conn:
            rid = conn.execute("SELECT min(id) FROM runs WHERE status = 'running'"
                               ).fetchone()[0]
            damaged = _summary("5e14", 0.0, 1.0, _block(5e14))  # outside its own range
            conn.execute("UPDATE runs SET status = 'finished', summary_json = ?,"
                         " ended_unix_s = started_unix_s + 5 WHERE id = ?", (damaged, rid))
            conn.execute("INSERT INTO runs (name, status, started_unix_s, ended_unix_s,"
                         " hostname, host_json, hardware_json, sensors_json, versions_json,"
                         " summary_json, tags_json) SELECT 'new', 'finished', 1.8e9,"
                         " 1.8e9 + 1, hostname, host_json, hardware_json, sensors_json,"
                         " versions_json, ?, tags_json FROM runs WHERE id = ?",
                         (_summary("-7", 0.0, 1.0, _block(1.0)), rid))
        index = RunsIndex(reads.rows)
        index.update()
        for query in queries:
            assert pages.page_ids(query) == index.page(query), query
    finally:
        reads.close()


def test_the_damaged_figures_are_at_both_ends_of_sqlites_order(deep: Path) -> None:
    # what the pages above must leave out of the order: SQLite's index sorts them in it
    from wattwise.records import schema

    with sqlite3.connect(deep) as conn:
        for sort, top, bottom in (("energy", 1e308, -5), ("emissions", 1e308, -3)):
            key = schema.SORT_KEYS[sort]
            ends = [conn.execute(f"SELECT {key} FROM runs WHERE {schema.VALUED[sort]}"
                                 f" ORDER BY {key} {way} LIMIT 1").fetchone()[0]
                    for way in ("DESC", "ASC")]
            assert ends == [top, bottom]
