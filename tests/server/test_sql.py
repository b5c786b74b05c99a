"""Before the runs index is built, the pages SQLite can answer from its own indexes are the
pages the index gives; the others wait for the index."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from wattwise.records.store import Store
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
        (5, 50), (0, 7, 58),
        ("", "alpha", "SS", "7", "007", "école", "nothing", " beta ", "50%", "a_b", "a\\",
         "k", "%", "_"),
        ("started", "id", "name"), (True, False))
]


def test_pages_from_sqlite_equal_the_index_pages(db: Path) -> None:
    fresh, built = Reads(db), Reads(db)
    try:
        built.index()
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
    import sqlite3

    source, copy = sqlite3.connect(db), sqlite3.connect(tmp_path / "runs.db")
    source.backup(copy)
    source.close()
    copy.close()
    db = tmp_path / "runs.db"
    fresh, built = Reads(db), Reads(db)
    try:
        fresh._index.early.read()
        with Store(db) as store:  # a run after the names were read
            store.create_run(name="alpha-late", started_unix_s=999.0, host={}, hardware={},
                             sensors=[], versions={})
        built.index()
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
        fresh.warm()
        assert fresh._index.early.matches("alpha") is None  # the index answers now
    finally:
        fresh.close()
        built.close()


@pytest.mark.parametrize("query", [RunsQuery(status="finished"), RunsQuery(sort="energy"),
                                   RunsQuery(sort="duration", q="alpha")])
def test_a_page_sqlite_cannot_answer_from_an_index_waits_for_the_runs_index(
    db: Path, query: RunsQuery
) -> None:
    reads = Reads(db)
    try:
        assert reads._page_from_sql(query) is None
        rows, total = reads.runs_page(query)  # builds the index, then answers
        assert reads._index.built.is_set() and total > 0 and rows
    finally:
        reads.close()


def test_an_order_a_new_run_cannot_move_is_kept_and_others_made_again(
        tmp_path: Path) -> None:
    """A live dashboard's index changes at every look: a run started after every other
    goes last in the start and id orders (kept), and a running run's duration changes
    only the duration order."""
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
        assert "started" not in index.orders  # the early one does not go last
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


def test_warm_builds_every_order_and_the_sums(db: Path) -> None:
    reads = Reads(db)
    try:
        reads.warm()
        assert reads._index.built.is_set()
        assert set(reads._index.orders) == {"started", "id", "name", "status", "duration",
                                            "energy", "emissions"}
        assert reads.status_counts() == {"finished": 60}
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
        assert reads.totals_by_kind() == {"measured": (5.0, 0.0, 1)}
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
        built.index()
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
