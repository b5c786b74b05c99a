"""A dashboard already running follows an ended run another tool changes or deletes
(``runs_recheck``): the runs index read ended runs once, so a finished run set
to ``paused`` in place stayed finished in ``/metrics`` (and, without the sort indexes,
in the status filter) and a deleted run stayed counted, until the server restarted."""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests._damage import tracked_run
from tests.server._runs import run_counts
from wattwise.records import schema
from wattwise.server import runs_index, runs_recheck
from wattwise.server.app import create_app

pytestmark = pytest.mark.usefixtures("no_ambient_zone")


def _counts(client: TestClient) -> dict[str, float]:
    return run_counts(client.get("/metrics").text)


def _ids(client: TestClient, **params: str) -> tuple[list[int], int]:
    got = client.get("/api/runs", params=params).json()
    return [int(r["id"]) for r in got["runs"]], int(got["total"])


def _until(check: Callable[[], bool]) -> None:
    deadline = time.monotonic() + 20
    while not check():
        assert time.monotonic() < deadline, "the dashboard did not follow the change"
        time.sleep(0.1)


def _db(tmp_path: Path, indexed: bool) -> tuple[Path, list[int]]:
    db = tmp_path / "runs.db"
    ids = [tracked_run(db, seconds=0.1) for _ in range(3)]
    if not indexed:
        with sqlite3.connect(db) as conn:
            for name in schema.SORT_INDEXES:
                conn.execute(f"DROP INDEX IF EXISTS {name}")
        conn.close()
    return db, ids


def _edit(db: Path, sql: str, *params: object) -> None:
    with sqlite3.connect(db) as conn:
        conn.execute(sql, params)
    conn.close()


@pytest.mark.parametrize("indexed", [True, False])
def test_a_status_changed_in_place_is_followed(tmp_path: Path, indexed: bool,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(runs_recheck, "RECHECK_S", 0.0)
    db, ids = _db(tmp_path, indexed)
    with TestClient(create_app(db), base_url="http://127.0.0.1") as client:
        _until(lambda: _counts(client).get("finished") == 3.0)
        _edit(db, "UPDATE runs SET status = 'paused' WHERE id = ?", ids[0])
        _until(lambda: _counts(client).get("other") == 1.0)
        assert _counts(client)["finished"] == 2.0
        for sort in runs_index.SORTS:
            assert _ids(client, status="other", sort=sort) == ([ids[0]], 1)
            finished, total = _ids(client, status="finished", sort=sort)
            assert sorted(finished) == sorted(ids[1:]) and total == 2


@pytest.mark.parametrize("indexed", [True, False])
def test_a_total_changed_in_place_moves_its_run(tmp_path: Path, indexed: bool,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(runs_recheck, "RECHECK_S", 0.0)
    db, _ = _db(tmp_path, indexed)
    with TestClient(create_app(db), base_url="http://127.0.0.1") as client:
        first, _ = _ids(client, sort="energy", order="desc")
        low = first[-1]
        _until(lambda: _ids(client, sort="energy", order="desc")[0][-1] == low)
        with sqlite3.connect(db) as conn:
            summary = json.loads(conn.execute("SELECT summary_json FROM runs WHERE id = ?",
                                              (low,)).fetchone()[0])
        conn.close()
        # a larger total, its range and domains with it, and its emissions as priced
        scale = 10.0
        for key in ("energy_j", "low_j", "high_j"):
            summary[key] *= scale
        for d in summary["domains"]:
            for key in ("energy_j", "low_j", "high_j"):
                if isinstance(d.get(key), float):
                    d[key] *= scale
        for key in ("emissions_g", "low_g", "high_g", "energy_kwh", "facility_energy_kwh"):
            summary["emissions"][key] *= scale
        _edit(db, "UPDATE runs SET summary_json = ? WHERE id = ?", json.dumps(summary), low)
        _until(lambda: _ids(client, sort="energy", order="desc")[0][0] == low)
        (row,) = [r for r in client.get("/api/runs").json()["runs"] if r["id"] == low]
        assert row["energy_j"] == summary["energy_j"]


@pytest.mark.parametrize("indexed", [True, False])
def test_a_deleted_run_leaves_the_list_and_the_counts(tmp_path: Path, indexed: bool,
                                                      monkeypatch: pytest.MonkeyPatch
                                                      ) -> None:
    monkeypatch.setattr(runs_recheck, "RECHECK_S", 0.0)
    db, ids = _db(tmp_path, indexed)
    with TestClient(create_app(db), base_url="http://127.0.0.1") as client:
        _until(lambda: _counts(client).get("finished") == 3.0)
        _edit(db, "DELETE FROM samples WHERE run_id = ?", ids[1])
        _edit(db, "DELETE FROM runs WHERE id = ?", ids[1])
        _until(lambda: _counts(client).get("finished") == 2.0)
        for sort in runs_index.SORTS:
            for params in ({}, {"status": "finished"}, {"q": "job"}):
                got, total = _ids(client, sort=sort, **params)
                assert sorted(got) == [ids[0], ids[2]] and total == 2, (sort, params)


@pytest.mark.parametrize("indexed", [True, False])
def test_runs_found_deleted_on_a_page_leave_it_at_once(tmp_path: Path, indexed: bool,
                                                       monkeypatch: pytest.MonkeyPatch
                                                       ) -> None:
    """No pass due: a page whose runs another tool deleted drops them, is asked again and
    counts the rest (it listed fewer rows beside the old total until the next pass, up to
    a minute on 50,000 runs: ``"runs": []`` with ``total`` 50001 at one offset)."""
    from wattwise.server._sql import Reads
    from wattwise.server.runs_index import RunsQuery

    monkeypatch.setattr(runs_recheck, "RECHECK_S", 1e9)
    # no pass in the background either: the page alone must find them
    monkeypatch.setattr(runs_recheck.Rechecks, "start_when_due", lambda self, now=False: None)
    db, ids = _db(tmp_path, indexed)
    more = [tracked_run(db, seconds=0.05) for _ in range(2)]
    with sqlite3.connect(db) as conn:  # 30 more, all deleted below: 15 pages of them
        for _ in range(30):
            conn.execute("INSERT INTO runs (name, status, started_unix_s, hostname,"
                         " host_json, hardware_json, sensors_json, versions_json,"
                         " tags_json) SELECT name, status, started_unix_s + 100, hostname,"
                         " host_json, hardware_json, sensors_json, versions_json, tags_json"
                         " FROM runs WHERE id = ?", (more[1],))
    conn.close()
    reads = Reads(db)
    try:
        reads.warm()
        assert reads.runs_page(RunsQuery(limit=2))[1] == 35
        _edit(db, "DELETE FROM runs WHERE id > ? OR id = ?", more[1] - 1, ids[2])
        for sort in runs_index.SORTS:
            for desc in (True, False):
                rows, total = reads.runs_page(RunsQuery(limit=2, sort=sort, desc=desc))
                assert len(rows) == 2 and total == 3, (sort, desc)
        rows, total = reads.runs_page(RunsQuery(limit=50))
        assert [r["id"] for r in rows] == [more[0], ids[1], ids[0]] and total == 3
        assert reads.status_counts() == {"finished": 3}
    finally:
        reads.close()
