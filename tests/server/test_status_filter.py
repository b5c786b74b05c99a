"""``status=other`` selects the runs whose status wattwise never writes (another tool's,
a damaged row, one stored as a blob), those ``/metrics`` counts as ``status="other"``
(the filter answered 422): in ``/api/runs`` from SQLite's indexes, from the statuses
read first (a database without the sort indexes) and from the runs index, in every
order, with a name filter too."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.server._runs import run_counts
from wattwise.records import schema
from wattwise.records.store import SampleRow, Store
from wattwise.server._sql import SORTS, Reads, RunsQuery
from wattwise.server.app import create_app
from wattwise.server.data import runs_payload
from wattwise.server.status_filter import STATUSES, selects, status_sql

DEAD = 2**22 + 9  # above Linux's largest pid: no such process
START = 1_700_000_000.0
#: Stored statuses and whether ``other`` selects them.
STORED = {"finished": False, "failed": False, "lost": False, "paused": True,
          "Finished": True, "finished ": True, "blob": True}


def _db(path: Path, *, indexed: bool = True) -> dict[str, int]:
    with Store(path) as store:
        ids = {}
        for k, status in enumerate(STORED):
            rid = ids[status] = store.create_run(
                name=f"job-{k}", started_unix_s=START + k, host={}, hardware={},
                sensors=[], versions={}, pid=DEAD)
            store.add_samples(rid, [SampleRow(START + k + t, "cpu:model", 5.0, 5.0, 4.0, 6.0,
                                              False) for t in range(1, 4)])
            store.finish_run(rid, ended_unix_s=START + k + 5.0, status="finished")
    with sqlite3.connect(path) as conn:
        for status, rid in ids.items():
            value: object = b"finished" if status == "blob" else status
            conn.execute("UPDATE runs SET status = ? WHERE id = ?", (value, rid))
        if not indexed:
            for name in schema.SORT_INDEXES:
                conn.execute(f"DROP INDEX IF EXISTS {name}")
    conn.close()
    return ids


def _page(store: Store, reads: Reads, sort: str, q: str = "") -> tuple[set[int], int]:
    got = runs_payload(store, query=RunsQuery(status="other", sort=sort, q=q), reads=reads)
    return {int(r["id"]) for r in got["runs"]}, int(got["total"])


@pytest.mark.parametrize("indexed", [True, False])
@pytest.mark.parametrize("sort", SORTS)
def test_status_other_lists_the_runs_of_a_status_wattwise_never_writes(
        tmp_path: Path, sort: str, indexed: bool) -> None:
    path = tmp_path / "runs.db"
    ids = _db(path, indexed=indexed)
    other = {ids[s] for s, chosen in STORED.items() if chosen}
    with Store(path, readonly=True) as store:
        reads = Reads(path)
        try:
            assert _page(store, reads, sort) == (other, len(other))  # before the index
            assert _page(store, reads, sort, q="job-3") == ({ids["paused"]}, 1)
            assert _page(store, reads, sort, q="job-0") == (set(), 0)
            reads.warm()
            assert _page(store, reads, sort) == (other, len(other))  # from the index
            assert _page(store, reads, sort, q="job-6") == ({ids["blob"]}, 1)
        finally:
            reads.close()


def test_api_filter_and_metrics_count_the_same_other_runs(tmp_path: Path) -> None:
    path = tmp_path / "runs.db"
    ids = _db(path)
    with TestClient(create_app(path), base_url="http://127.0.0.1") as c:
        page = c.get("/api/runs?status=other").json()
        text = c.get("/metrics").text
        assert c.get("/api/runs?status=others").status_code == 422
    counts = run_counts(text)
    assert page["total"] == counts["other"] == 4
    assert {r["id"] for r in page["runs"]} == {ids[s] for s, c in STORED.items() if c}
    assert {r["status"] for r in page["runs"]} == {"paused", "Finished", "finished ",
                                                   "x'66696e6973686564'"}


@pytest.mark.parametrize("status", [*STATUSES, "other"])
def test_python_and_sql_select_alike(status: str) -> None:
    values: list[object] = [*STATUSES, "other", "paused", "", b"finished", 1, 2.5]
    conn = sqlite3.connect(":memory:")
    try:
        cond, params = status_sql(status, "s")
        got = [conn.execute(f"SELECT {cond} FROM (SELECT ? AS s)", [*params, v]).fetchone()[0]
               for v in values]
    finally:
        conn.close()
    from wattwise.records.liveness import stored_status

    assert [bool(g) for g in got] == [selects(status, stored_status(v)) for v in values]


def test_the_page_knows_the_statuses_in_the_order_metrics_gives_them() -> None:
    """The page's statuses and its status filter were two lists in two orders."""
    import json
    import re
    from importlib.resources import files

    page = (files("wattwise.server") / "static" / "index.html").read_text()
    found = re.search(r"^const STATUSES = (\[.*\]);$", page, re.M)
    assert found is not None
    assert tuple(json.loads(found.group(1))) == STATUSES
    assert "const STATUS_FILTERS = [...STATUSES, \"other\"];" in page
