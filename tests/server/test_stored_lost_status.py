"""``status=lost`` selects the runs stored as ``lost`` too (no wattwise writer stores it,
but another tool's or an older version's record can), beside those stored as running
whose process is gone: in ``/api/runs`` (from SQLite's indexes while the runs index is
built, and from the index after, in every order) and in /metrics' run counts."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.server._runs import run_counts
from wattwise.records.store import SampleRow, Store
from wattwise.server._sql import SORTS, Reads, RunsQuery
from wattwise.server.app import create_app
from wattwise.server.data import runs_payload

DEAD = 2**22 + 9  # above Linux's largest pid: no such process
START = 1_700_000_000.0


def _db(path: Path) -> dict[str, int]:
    """A finished run, one running now (this process), one stored as running by a
    process that is gone, and one stored as ``lost``."""
    with Store(path) as store:
        def run(name: str, k: int, pid: int) -> int:
            rid = store.create_run(name=name, started_unix_s=START + k, host={}, hardware={},
                                   sensors=[], versions={}, pid=pid)
            store.add_samples(rid, [SampleRow(START + k + t, "cpu:model", 5.0, 5.0, 4.0, 6.0,
                                              False) for t in range(1, 4)])
            return rid

        ids = {"finished": run("done", 0, DEAD), "gone": run("killed", 1, DEAD),
               "stored_lost": run("other-tool", 2, DEAD), "alive": run("now", 3, os.getpid())}
        store.finish_run(ids["finished"], ended_unix_s=START + 10.0, status="finished")
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE runs SET status = 'lost' WHERE id = ?", (ids["stored_lost"],))
        conn.execute("UPDATE runs SET heartbeat_unix_s = ? WHERE id = ?",
                     (9e9, ids["alive"]))
    return ids


def _page(store: Store, reads: Reads, status: str, sort: str) -> tuple[set[int], int]:
    got = runs_payload(store, query=RunsQuery(status=status, sort=sort), reads=reads)
    return {int(r["id"]) for r in got["runs"]}, int(got["total"])


@pytest.mark.parametrize("sort", SORTS)
def test_status_lost_lists_runs_stored_as_lost(tmp_path: Path, sort: str) -> None:
    path = tmp_path / "runs.db"
    ids = _db(path)
    lost = {ids["gone"], ids["stored_lost"]}
    with Store(path, readonly=True) as store:
        reads = Reads(path)
        try:
            assert _page(store, reads, "lost", sort) == (lost, 2)  # before the index
            assert _page(store, reads, "running", sort) == ({ids["alive"]}, 1)
            reads.warm()
            assert _page(store, reads, "lost", sort) == (lost, 2)  # from the index
            assert _page(store, reads, "running", sort) == ({ids["alive"]}, 1)
            named = runs_payload(store, query=RunsQuery(status="lost", q="other", sort=sort),
                                 reads=reads)
            assert [r["id"] for r in named["runs"]] == [ids["stored_lost"]]
            assert named["runs"][0]["status"] == "lost"
        finally:
            reads.close()


def test_api_and_metrics_count_runs_stored_as_lost(tmp_path: Path) -> None:
    path = tmp_path / "runs.db"
    ids = _db(path)
    with TestClient(create_app(path), base_url="http://127.0.0.1") as c:
        page = c.get("/api/runs?status=lost").json()
        text = c.get("/metrics").text
    assert {r["id"] for r in page["runs"]} == {ids["gone"], ids["stored_lost"]}
    assert page["total"] == 2
    counts = run_counts(text)
    assert counts["lost"] == 2.0 and counts["running"] == 1.0 and counts["finished"] == 1.0
