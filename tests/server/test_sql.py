"""Before the runs index is built, the pages SQLite can answer from its own indexes are the
pages the index gives; the others wait for the index."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import pytest

from wattwise.records import schema
from wattwise.records.store import Store
from wattwise.server import _sql_pages
from wattwise.server._sql import Reads, RunsQuery

NAMES = ["Alpha", "alpha", "Straße", "beta-7", "7", "Gamma run", "ÉCOLE", "école", "beta-70",
         "50% off", "a_b", "a\\b", "KELVIN \u212a", "tab\there"]


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Runs with names that fold differently, shared start times (ties) and ids that
    are also names."""
    path = tmp_path_factory.mktemp("sql") / "runs.db"
    with Store(path) as store:
        for i in range(60):
            rid = store.create_run(name=NAMES[i % len(NAMES)] + ("" if i < 9 else f"-{i}"),
                                   started_unix_s=1000.0 + (i * 7) % 13, host={},
                                   hardware={}, sensors=[], versions={})
            store.finish_run(rid, ended_unix_s=1100.0, status="finished",
                             summary={"energy_j": float(i), "kind": "measured"})
    return path


QUERIES = [
    RunsQuery(limit=lim, offset=off, q=q, sort=sort, desc=desc)
    for lim, off, q, sort, desc in itertools.product(
        (5, 50), (0, 7, 29, 31, 58),
        ("", "alpha", "SS", "7", "007", "école", "nothing", " beta ", "50%", "a_b", "a\\",
         "k", "%", "_", "ß", "\u212a", "ÉCOLE-1"),
        ("started", "id", "name"), (True, False))
]


def test_pages_from_sqlite_equal_the_index_pages(db: Path) -> None:
    fresh, built = Reads(db), Reads(db)
    try:
        built.warm()  # every order made: its pages come from the runs index
        for query in QUERIES:
            got = fresh._page_from_sql(query)
            assert got is not None, query
            rows, total = got
            want_rows, want_total = built.runs_page(query)
            assert total == want_total, query
            assert [r["id"] for r in rows] == [r["id"] for r in want_rows], query
        assert not fresh._index.built.is_set()
    finally:
        fresh.close()
        built.close()


def test_pages_from_the_names_read_first_equal_the_index_pages(db: Path,
                                                               tmp_path: Path) -> None:
    """While the index is built, a name or status filter is answered from the names,
    statuses and starts read first (``runs_index.EarlyNames``), runs added since
    included, as the index answers it."""

    db = _without_sort_indexes(db, tmp_path)  # else SQLite's indexes answer by status
    fresh, built = Reads(db), Reads(db)
    try:
        fresh._index.early.read()
        with Store(db) as store:  # a run after the names were read
            store.create_run(name="alpha-late", started_unix_s=999.0, host={}, hardware={},
                             sensors=[], versions={})
        _drop_sort_indexes(db)  # the writer made them again
        built.warm()  # every order made: its pages come from the runs index
        by_status = [
            RunsQuery(limit=lim, offset=off, q=q, status=status, sort=sort, desc=desc)
            for lim, off, q, status, sort, desc in itertools.product(
                (5, 50), (0, 7), ("", "alpha", "7", "007", "late", "nothing"),
                ("finished", "running", "lost", "failed"), ("started", "id"), (True, False))
        ]
        for query in [q for q in QUERIES if q.q.strip()] + by_status:
            got = fresh._page_from_sql(query)
            assert got is not None, query
            want_rows, want_total = built.runs_page(query)
            assert got[1] == want_total, query
            assert [r["id"] for r in got[0]] == [r["id"] for r in want_rows], query
        fresh._index.early._got = None  # statuses read, names not yet: scanned per request
        for query in by_status:
            got = fresh._page_from_sql(query)
            assert got is not None, query
            assert [r["id"] for r in got[0]] == [r["id"] for r in built.runs_page(query)[0]]
        assert not fresh._index.built.is_set()
        fresh.warm()  # a database from before version 3: every order made
        assert fresh._index.early.matches("alpha") is None  # the index answers now
    finally:
        fresh.close()
        built.close()


def _without_sort_indexes(db: Path, tmp_path: Path) -> Path:
    """A copy of ``db`` as schema version 2 left it: no index on status or the figures."""
    import sqlite3

    copy = tmp_path / "v2.db"
    source, target = sqlite3.connect(db), sqlite3.connect(copy)
    source.backup(target)
    source.close()
    target.close()
    _drop_sort_indexes(copy)
    return copy


def _drop_sort_indexes(path: Path) -> None:
    import sqlite3

    conn = sqlite3.connect(path)
    for name in schema.SORT_INDEXES:
        conn.execute(f"DROP INDEX IF EXISTS {name}")
    conn.execute("PRAGMA user_version = 2")
    conn.commit()
    conn.close()


@pytest.mark.parametrize("query", [
    RunsQuery(status="finished"), RunsQuery(sort="energy"),
    RunsQuery(sort="duration", q="alpha"), RunsQuery(status="finished", sort="name"),
    RunsQuery(sort="status", q="a")])
def test_a_page_sqlite_cannot_answer_from_an_index_waits_for_the_runs_index(
    db: Path, tmp_path: Path, query: RunsQuery, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Before schema version 3: a sort by a figure, a status filter (statuses not read
    yet), a status in name order, or a name filter that more runs match than are looked
    up by id. (From version 3, every page is read through SQLite's indexes.)"""
    monkeypatch.setattr(_sql_pages, "_SQL_MATCHES", 10)
    reads = Reads(_without_sort_indexes(db, tmp_path))
    try:
        assert reads._page_from_sql(query) is None
        rows, total = reads.runs_page(query)  # builds the index, then answers
        assert reads._index.built.is_set() and total > 0 and rows
    finally:
        reads.close()


def test_an_order_a_new_run_cannot_move_is_kept_and_others_made_again(
        tmp_path: Path) -> None:
    """A live dashboard's index changes at every look: a run started after every other
    goes last in the start and id orders (kept), one started before them takes its place
    in the start order (kept), and a running run's duration changes only the duration
    order."""
    path = tmp_path / "runs.db"
    with Store(path) as store:
        for i in range(5):
            rid = store.create_run(name=f"r{i}", started_unix_s=1000.0 + i, host={},
                                   hardware={}, sensors=[], versions={})
            store.finish_run(rid, ended_unix_s=1100.0, status="finished",
                             summary={"energy_j": float(5 - i), "kind": "measured"})
    reads = Reads(path)
    try:
        reads.warm()
        index = reads._index
        kept = {s: index.orders[s] for s in ("started", "id", "energy")}
        with Store(path) as store:
            late = store.create_run(name="a-late", started_unix_s=2000.0, host={},
                                    hardware={}, sensors=[], versions={})
            early = store.create_run(name="z-early", started_unix_s=10.0, host={},
                                     hardware={}, sensors=[], versions={})
        rows, total = reads.runs_page(RunsQuery(sort="id"))
        assert total == 7 and [r["id"] for r in rows][:2] == [early, late]
        assert index.orders["id"] is kept["id"]  # both went last: kept, extended
        # the early one does not go last: it takes its place in the order kept
        assert index.orders["started"] is kept["started"]
        assert index.orders["started"][0] == [early, *range(1, 6), late]
        assert index.orders["energy"] is kept["energy"]  # no energy yet: last, by id
        assert index.orders["energy"][1] == [late, early]
        for query in (RunsQuery(), RunsQuery(sort="energy", desc=False),
                      RunsQuery(sort="name"), RunsQuery(q="r", sort="started")):
            got = reads.runs_page(query)
            fresh = Reads(path)
            try:
                fresh.index()
                want = fresh.runs_page(query)
            finally:
                fresh.close()
            assert [r["id"] for r in got[0]] == [r["id"] for r in want[0]], query
        duration = index.order("duration")
        with Store(path) as store:
            store.heartbeat(late, 2100.0)  # a running run's duration grows
        reads.runs_page(RunsQuery())
        assert "duration" not in index.orders and index.orders["id"] is kept["id"]
        assert index.order("duration") != duration
    finally:
        reads.close()


@pytest.mark.parametrize("v2", [True, False])
def test_warm_builds_every_order_and_the_sums(db: Path, tmp_path: Path, v2: bool) -> None:
    """Every order and sum is made at start-up; the names and statuses are read first only
    where SQLite has no index to answer those filters with (before schema version 3)."""
    reads = Reads(_without_sort_indexes(db, tmp_path) if v2 else db)
    try:
        reads.warm()
        assert reads._index.built.is_set() and reads._index.warmed.is_set()
        assert set(reads._index.orders) == {"started", "id", "name", "status", "duration",
                                            "energy", "emissions"}
        assert reads.status_counts() == {"finished": 60}
        assert reads._index.early._reading.is_set() == v2
    finally:
        reads.close()


def test_a_run_whose_stored_json_is_malformed_breaks_no_query(tmp_path: Path) -> None:
    """One hand-edited row (tags or summary not JSON) failed the index, so /metrics, the
    plans and every sort by a figure answered 503 for good."""
    import sqlite3

    path = tmp_path / "runs.db"
    with Store(path) as store:
        for i in range(3):
            rid = store.create_run(name=f"r{i}", started_unix_s=1000.0 + i, host={},
                                   hardware={}, sensors=[], versions={})
            store.finish_run(rid, ended_unix_s=1100.0, status="finished",
                             summary={"energy_j": float(i + 1), "kind": "measured"})
    con = sqlite3.connect(path)
    con.execute("UPDATE runs SET tags_json = '{not json' WHERE id = 1")
    con.execute("UPDATE runs SET summary_json = '[1,' WHERE id = 2")
    con.commit()
    con.close()
    reads = Reads(path)
    try:
        reads.index()
        for sort in ("energy", "emissions", "duration", "status", "started"):
            rows, total = reads.runs_page(RunsQuery(sort=sort))
            assert total == 3 and sorted(r["id"] for r in rows) == [1, 2, 3], sort
        rows, total = reads.runs_page(RunsQuery(status="finished"))
        assert total == 3
        energy = {r["id"]: r["energy_j"] for r in reads.runs_page(RunsQuery())[0]}
        assert energy[3] == 3.0 and energy[1] == 1.0 and energy[2] is None
    finally:
        reads.close()


def test_totals_leave_out_a_stored_study_whose_energy_sums_other_runs(tmp_path: Path) -> None:
    """A compress/tune record's summary sums its variant runs: counting both doubled the
    energy in /metrics."""
    path = tmp_path / "runs.db"
    with Store(path) as store:
        ids = []
        for name, summary in (("variant", {"energy_j": 5.0, "kind": "measured"}),
                              ("compress:t", {"energy_j": 5.0, "kind": "measured",
                                              "summary_of": [1]})):
            rid = store.create_run(name=name, started_unix_s=1000.0, host={}, hardware={},
                                   sensors=[], versions={})
            store.finish_run(rid, ended_unix_s=1100.0, status="finished", summary=summary)
            ids.append(rid)
    reads = Reads(path)
    try:
        assert reads.totals_by_kind() == {"measured": (5.0, 0.0, 1, 0)}
    finally:
        reads.close()


def test_the_index_orders_hostile_rows_as_sqlite_does(tmp_path: Path) -> None:
    """A name stored as a blob and start times stored as text or Inf page the same before
    the index is built (through SQLite) and after."""
    import sqlite3

    path = tmp_path / "runs.db"
    with Store(path) as store:
        for i in range(6):
            rid = store.create_run(name=f"r{i}", started_unix_s=1000.0 + i, host={},
                                   hardware={}, sensors=[], versions={})
            store.finish_run(rid, ended_unix_s=1100.0, status="finished",
                             summary={"energy_j": 1.0, "kind": "measured"})
    con = sqlite3.connect(path)
    con.execute("UPDATE runs SET name = CAST('blob-name' AS BLOB) WHERE id = 2")
    con.execute("UPDATE runs SET started_unix_s = 'soon' WHERE id = 3")
    con.execute("UPDATE runs SET started_unix_s = 9e999 WHERE id = 4")
    con.commit()
    con.close()
    fresh, built = Reads(path), Reads(path)
    try:
        built.warm()  # every order made: its pages come from the runs index
        for query in (RunsQuery(), RunsQuery(desc=False),
                      RunsQuery(sort="name"), RunsQuery(sort="name", desc=False)):
            got = fresh._page_from_sql(query)
            assert got is not None, query
            want = built.runs_page(query)
            assert [r["id"] for r in got[0]] == [r["id"] for r in want[0]], query
            assert got[1] == want[1], query
    finally:
        fresh.close()
        built.close()


@pytest.fixture(scope="module")
def figures_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Runs of every status whose figures tie, are missing, are text, are not JSON, or
    come only from the start and the last heartbeat (a running run)."""
    import sqlite3

    path = tmp_path_factory.mktemp("figures") / "runs.db"
    statuses = ("finished", "failed", "interrupted", "running")
    with Store(path) as store:
        for i in range(48):
            rid = store.create_run(name=NAMES[i % len(NAMES)] + ("" if i < 20 else f"-{i}"),
                                   started_unix_s=1000.0 + (i * 5) % 11,
                                   host={}, hardware={}, sensors=[], versions={})
            status = statuses[i % 4]
            if status == "running":
                continue
            summary: dict[str, object] = {"kind": "estimated", "energy_j": float(i % 7),
                                          "emissions": {"emissions_g": i * 0.5}}
            if i % 5 == 0:
                summary = {"energy_j": "12"}  # text: no value
            elif i % 5 == 1:
                summary["duration_s"] = float(i % 3)
            store.finish_run(rid, ended_unix_s=1000.0 + i, status=status, summary=summary)
    con = sqlite3.connect(path)
    con.execute("UPDATE runs SET summary_json = '{not json' WHERE id = 7")
    con.execute("UPDATE runs SET heartbeat_unix_s = 1003.0 WHERE status = 'running'"
                " AND id % 3 = 0")
    con.execute("UPDATE runs SET summary_json = '{\"energy_j\": 1e999}' WHERE id = 9")
    con.execute("UPDATE runs SET name = CAST('Blob' AS BLOB) WHERE id = 11")
    con.execute("UPDATE runs SET name = 42 WHERE id = 12")
    con.execute("UPDATE runs SET started_unix_s = 'soon' WHERE id = 2")
    con.commit()
    con.close()
    return path


FIGURE_QUERIES = [
    RunsQuery(limit=lim, offset=off, status=status, sort=sort, desc=desc)
    for lim, off, status, sort, desc in itertools.product(
        (5, 50), (0, 9, 40, 47, 60), ("", "finished", "running", "lost", "failed"),
        ("started", "id", "status", "duration", "energy", "emissions"), (True, False))
] + [RunsQuery(limit=lim, offset=off, sort="name", status=status, desc=desc)
     for lim, off, status, desc in itertools.product(
         (5, 50), (0, 3, 9, 47), ("", "finished", "lost", "failed"), (True, False))
] + [RunsQuery(limit=5, offset=off, q=q, status=status, sort=sort, desc=desc)
     for off, q, status, sort, desc in itertools.product(
         (0, 4), ("alpha", "SS", "7", " beta ", "nothing", "b"), ("", "finished", "lost"),
         ("started", "id", "name", "status", "duration", "energy", "emissions"),
         (True, False))]


def test_pages_sorted_by_status_or_a_figure_from_sqlite_equal_the_index_pages(
        figures_db: Path) -> None:
    """From schema version 3, every page but a status in name order or a sort by energy
    or emissions (which wait for the index) is answered through SQLite's indexes before the runs
    index is built (a name filter from the names' index
    and its matches' keys read by id), and pages as the index does: runs without a value
    (text, not JSON, infinite, no summary) last, by id, in both directions."""
    fresh, built = Reads(figures_db), Reads(figures_db)
    try:
        built.warm()  # every order made: its pages come from the runs index
        for query in FIGURE_QUERIES:
            got = fresh._page_from_sql(query)
            assert got is not None, query
            want_rows, want_total = built.runs_page(query)
            assert got[1] == want_total, query
            assert [r["id"] for r in got[0]] == [r["id"] for r in want_rows], query
        assert not fresh._index.built.is_set()
    finally:
        fresh.close()
        built.close()


def test_the_sort_indexes_are_used_not_a_scan_of_the_summaries(figures_db: Path) -> None:
    import sqlite3

    con = sqlite3.connect(figures_db)
    try:
        for sort in ("energy", "emissions", "duration"):
            plan = " ".join(str(r[3]) for r in con.execute(
                f"EXPLAIN QUERY PLAN SELECT id FROM runs WHERE {schema.VALUED[sort]}"
                f" ORDER BY {schema.SORT_KEYS[sort]} DESC, id DESC LIMIT 50"))
            assert f"USING INDEX runs_{sort}" in plan and "TEMP B-TREE" not in plan, plan
        plan = " ".join(str(r[3]) for r in con.execute(
            "EXPLAIN QUERY PLAN SELECT id FROM runs WHERE status = 'failed'"
            " ORDER BY started_unix_s DESC, id DESC LIMIT 50"))
        assert "INDEX runs_status" in plan and "TEMP B-TREE" not in plan, plan
    finally:
        con.close()


def test_a_running_run_s_changes_reach_the_index_and_a_still_one_is_not_read_again(
        tmp_path: Path) -> None:
    """The index re-reads a run stored as running only when its row changed (a
    heartbeat, an end, a summary): thousands of lost runs are not read again per look."""
    import sqlite3

    path = tmp_path / "runs.db"
    with Store(path) as store:
        live = store.create_run(name="live", started_unix_s=1000.0, host={}, hardware={},
                                sensors=[], versions={})
        still = store.create_run(name="still", started_unix_s=1000.0, host={}, hardware={},
                                 sensors=[], versions={})
    reads = Reads(path)
    read_again: list[list[int]] = []
    take = reads._index._take

    def spy(rows: list[Any]) -> None:
        read_again.append([int(r[0]) for r in rows])
        take(rows)

    try:
        reads.index()
        reads.index()  # each open run's columns are marked at its first look
        reads._index._take = spy  # type: ignore[method-assign]
        reads.index()
        assert read_again == [[]]  # nothing changed: nothing read whole
        with sqlite3.connect(path) as conn:
            conn.execute("UPDATE runs SET heartbeat_unix_s = 1030.0 WHERE id = ?", (live,))
        reads.index()
        assert read_again[-1] == [live]
        assert reads._index.entries[live].duration_s == 30.0
        with Store(path) as store:
            store.finish_run(live, ended_unix_s=1040.0, status="finished",
                             summary={"energy_j": 2.0, "kind": "measured"})
        reads.index()
        assert read_again[-1] == [live]
        entry = reads._index.entries[live]
        assert (entry.status, entry.energy_j) == ("finished", 2.0)
        assert live not in reads._index.open and still in reads._index.open
    finally:
        reads.close()


def test_a_name_filter_many_runs_match_pages_in_start_order_as_the_index_does(
        figures_db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Past ``_SQL_MATCHES`` matches, a name filter in start order walks every id in that
    order instead of waiting for the index; the page is the index's."""
    monkeypatch.setattr(_sql_pages, "_SQL_MATCHES", 1)
    fresh, built = Reads(figures_db), Reads(figures_db)
    try:
        built.warm()
        queries = [q for q in FIGURE_QUERIES if q.q.strip() and q.sort == "started"]
        assert queries
        for query in queries:
            got = fresh._page_from_sql(query)
            assert got is not None, query
            want_rows, want_total = built.runs_page(query)
            assert got[1] == want_total, query
            assert [r["id"] for r in got[0]] == [r["id"] for r in want_rows], query
        assert fresh._page_from_sql(RunsQuery(q="a", sort="duration")) is not None
        # emissions wait for the index, as energy does (``test_sql_pages_emissions``)
        assert fresh._page_from_sql(RunsQuery(q="a", sort="emissions")) is not None
    finally:
        fresh.close()
        built.close()


def test_totals_count_a_negative_stored_figure_as_nothing(tmp_path: Path) -> None:
    """A damaged record's -5 J (the run page says it is not usable) took 5 J off the
    /metrics total."""
    path = tmp_path / "runs.db"
    with Store(path) as store:
        for energy, grams in ((7.0, 0.005), (-5.0, -0.25)):
            rid = store.create_run(name="r", started_unix_s=1000.0, host={}, hardware={},
                                   sensors=[], versions={})
            store.finish_run(rid, ended_unix_s=1100.0, status="finished",
                             summary={"energy_j": energy, "kind": "measured",
                                      "emissions": {"emissions_g": grams}})
    reads = Reads(path)
    try:
        assert reads.totals_by_kind() == {"measured": (7.0, 0.005, 2, 1)}
    finally:
        reads.close()


def test_pages_are_read_through_the_sort_indexes_without_runs_live(
        figures_db: Path, tmp_path: Path) -> None:
    """``runs_live`` serves the liveness of runs stored as running, not the pages: a
    database that has every other index of schema version 3 pages from SQLite."""
    import sqlite3

    copy = tmp_path / "no_live.db"
    source, target = sqlite3.connect(figures_db), sqlite3.connect(copy)
    source.backup(target)
    source.close()
    target.execute("DROP INDEX IF EXISTS runs_live")
    target.commit()
    target.close()
    fresh, built = Reads(copy), Reads(figures_db)
    try:
        built.warm()
        for query in (RunsQuery(sort="duration"), RunsQuery(status="failed", sort="name"),
                      RunsQuery(q="alpha", sort="duration", desc=False)):
            got = fresh._page_from_sql(query)
            assert got is not None, query
            want_rows, want_total = built.runs_page(query)
            assert got[1] == want_total, query
            assert [r["id"] for r in got[0]] == [r["id"] for r in want_rows], query
    finally:
        fresh.close()
        built.close()


def test_a_name_page_leaves_out_a_run_another_tool_deleted(tmp_path: Path) -> None:
    """The names not stored as ASCII are read once (``NameMatch.odd``) and given to SQLite
    at each page by name: a run another tool deleted since is left out, and its id, taken
    again by a run named in ASCII, is that run's alone (once, at its own name's place)."""
    import sqlite3

    path = tmp_path / "runs.db"
    with Store(path) as store:
        for name in ("alpha", "Straße", "zeta", "École"):
            store.create_run(name=name, started_unix_s=1000.0, host={}, hardware={},
                             sensors=[], versions={})
    fresh = Reads(path)
    try:
        query = RunsQuery(sort="name", desc=False)
        assert [r["name"] for r in fresh._page_from_sql(query)[0]] == \
            ["alpha", "Straße", "zeta", "École"]  # "strasse", then "é" past "z"
        with sqlite3.connect(path) as conn:
            conn.execute("DELETE FROM runs WHERE name = 'Straße'")
            conn.execute("DELETE FROM runs WHERE id = 4")  # "École", the newest
            conn.execute("CREATE TEMP TABLE copied AS SELECT * FROM runs WHERE id = 1")
            conn.execute("UPDATE copied SET id = 4, name = 'beta'")  # its id taken again
            conn.execute("INSERT INTO runs SELECT * FROM copied")
        rows, total = fresh._page_from_sql(query)
        assert [(r["id"], r["name"]) for r in rows] == [(1, "alpha"), (4, "beta"), (3, "zeta")]
        assert total == 3
    finally:
        fresh.close()


def test_a_run_renamed_from_ascii_by_another_tool_stays_on_the_name_pages(
        tmp_path: Path) -> None:
    """The names not stored as ASCII are read once: a run another tool renamed from an
    ASCII name to another since is still listed (at its name as SQLite orders it)."""
    import sqlite3

    path = tmp_path / "runs.db"
    with Store(path) as store:
        for name in ("a", "b", "é", "d", "e"):
            store.create_run(name=name, started_unix_s=1000.0, host={}, hardware={},
                             sensors=[], versions={})
    fresh = Reads(path)
    try:
        query = RunsQuery(sort="name", desc=False)
        assert [r["id"] for r in fresh._page_from_sql(query)[0]] == [1, 2, 4, 5, 3]
        with sqlite3.connect(path) as conn:
            conn.execute("UPDATE runs SET name = 'ñ' WHERE id = 2")
        rows, total = fresh._page_from_sql(query)
        assert total == 5 and sorted(r["id"] for r in rows) == [1, 2, 3, 4, 5]
    finally:
        fresh.close()


def test_names_holding_a_nul_or_a_control_character_are_ordered_as_the_index_orders_them(
        tmp_path: Path) -> None:
    """Another tool's names holding a NUL (SQLite's NOCASE stops comparing there) or a
    0x01, among ASCII and other names: every page by name before the runs index is built
    is the index's page."""
    import sqlite3

    names = ["a\x00z", "a\x00b", "a\x00", "a", "A\x01", "a\x01\x01", "a\x02", "ab", "é",
             "a\x00\x01", "a\x01\x00", "B\x00a", "b"]
    path = tmp_path / "runs.db"
    with Store(path) as store:
        for name in names:
            store.create_run(name=name, started_unix_s=1000.0, host={}, hardware={},
                             sensors=[], versions={})
    with sqlite3.connect(path) as conn:  # stored as text with its NUL, as another tool may
        conn.execute("UPDATE runs SET name = CAST(CAST(name AS BLOB) AS TEXT)")
        assert conn.execute("SELECT count(*) FROM runs WHERE length(name) !="
                            " length(CAST(name AS BLOB))").fetchone() == (7,)
    fresh, built = Reads(path), Reads(path)
    try:
        built.warm()
        for desc in (False, True):
            want = [r["id"] for r in built.runs_page(RunsQuery(sort="name", desc=desc,
                                                               limit=50))[0]]
            assert [names[i - 1].casefold() for i in want] == sorted(
                (n.casefold() for n in names), reverse=desc)
            for offset in range(len(names)):
                query = RunsQuery(sort="name", desc=desc, limit=3, offset=offset)
                got = fresh._page_from_sql(query)
                assert got is not None and got[1] == len(names), query
                assert [r["id"] for r in got[0]] == want[offset:offset + 3], query
        assert not fresh._index.built.is_set()
    finally:
        fresh.close()
        built.close()
