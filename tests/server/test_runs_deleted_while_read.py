"""A run another program deletes while the dashboard builds a page of the runs list:
the page is read again without it, never a 404 for the list (``data.runs_payload``).
Before, ``/api/runs`` answered ``{"error": "no run 'N' in runs.db"}`` with a 404 when a
row's figures or notes were read after its run was gone."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests._damage import tracked_run
from wattwise.records.store import RunRecord, Store
from wattwise.server.app import create_app

pytestmark = pytest.mark.usefixtures("no_ambient_zone")


def _deleting(monkeypatch: pytest.MonkeyPatch, db: Path, doomed: set[int]) -> list[int]:
    """``Store.get_run`` deletes a run of ``doomed`` (through another connection) just
    before reading it, as another program would between the page and its rows; the
    ids it deleted."""
    real = Store.get_run
    deleted: list[int] = []

    def get_run(self: Store, ref: str | int) -> RunRecord:
        if isinstance(ref, int) and ref in doomed:
            doomed.discard(ref)
            with sqlite3.connect(db) as conn:
                conn.execute("DELETE FROM runs WHERE id = ?", (ref,))
            conn.close()
            deleted.append(ref)
        return real(self, ref)

    monkeypatch.setattr(Store, "get_run", get_run)
    return deleted


def _page(db: Path, **params: Any) -> tuple[int, dict[str, Any]]:
    with TestClient(create_app(db), base_url="http://127.0.0.1") as client:
        got = client.get("/api/runs", params={"all_notes": "true", **params})
        return got.status_code, got.json()


@pytest.mark.parametrize("sort", ["started", "energy"])
def test_a_run_deleted_while_its_row_is_read_leaves_the_page(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sort: str) -> None:
    db = tmp_path / "runs.db"
    ids = [tracked_run(db, seconds=0.1) for _ in range(4)]
    deleted = _deleting(monkeypatch, db, {ids[1]})
    status, got = _page(db, sort=sort)
    assert status == 200, got
    assert deleted == [ids[1]]
    assert sorted(int(r["id"]) for r in got["runs"]) == sorted(set(ids) - {ids[1]})
    assert got["total"] == 3
    assert "notes" not in got  # read again whole: nothing left out


def test_runs_deleted_on_every_read_are_left_out_with_a_note(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db = tmp_path / "runs.db"
    ids = [tracked_run(db, seconds=0.1) for _ in range(5)]
    deleted = _deleting(monkeypatch, db, set(ids[:4]))  # one a read, four reads
    status, got = _page(db, limit="2")
    assert status == 200, got
    left = [int(r["id"]) for r in got["runs"]]
    assert not set(left) & set(deleted)
    assert len(deleted) >= 3
    with sqlite3.connect(db) as conn:
        stored = [int(r[0]) for r in conn.execute("SELECT id FROM runs")]
    conn.close()
    assert set(left) <= set(stored)
    assert got["total"] == len(stored)
    notes = got.get("notes", [])
    assert any("deleted by another program while it was read: left out" in n
               for n in notes), got


def test_metrics_leave_out_a_run_deleted_while_scraped(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``/metrics`` answered the same 404 where a recent run was deleted between its
    list of runs and that run's series."""
    db = tmp_path / "runs.db"
    ids = [tracked_run(db, seconds=0.1) for _ in range(3)]
    deleted = _deleting(monkeypatch, db, {ids[2]})
    with TestClient(create_app(db), base_url="http://127.0.0.1") as client:
        got = client.get("/metrics")
    assert got.status_code == 200, got.text[:300]
    assert deleted == [ids[2]]
    assert f'run_id="{ids[1]}"' in got.text
    assert f'run_id="{ids[2]}"' not in got.text


def test_a_run_deleted_between_the_page_and_its_rows_is_replaced(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The page came back a row short (its total unchanged), with no note and no second
    read, where a run went between the page's ids and the reading of their rows."""
    from wattwise.server._sql import Reads

    db = tmp_path / "runs.db"
    ids = [tracked_run(db, seconds=0.1) for _ in range(5)]
    real = Reads._rows_of
    deleted: list[int] = []

    def rows_of(self: Reads, page: list[int]) -> Any:
        if page and not deleted:
            deleted.append(page[0])
            with sqlite3.connect(db) as conn:
                conn.execute("DELETE FROM runs WHERE id = ?", (page[0],))
            conn.close()
        return real(self, page)

    monkeypatch.setattr(Reads, "_rows_of", rows_of)
    status, got = _page(db, limit="3")
    assert status == 200 and len(deleted) == 1, got
    assert [int(r["id"]) for r in got["runs"]] == sorted(set(ids) - set(deleted),
                                                          reverse=True)[:3]
    assert got["total"] == 4 and "notes" not in got


def test_a_run_gone_stale_while_a_running_page_is_read_leaves_it(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A run of another host whose heartbeat went stale between the page's ids and its
    row showed as lost on a page of running runs."""
    import time

    db = tmp_path / "runs.db"
    ids = [tracked_run(db, seconds=0.1) for _ in range(4)]
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE runs SET status = 'running', ended_unix_s = NULL,"
                     " hostname = 'elsewhere', started_unix_s = started_unix_s - 10000,"
                     " heartbeat_unix_s = ?", (time.time(),))
    conn.close()
    real = Store.get_run
    staled: list[int] = []

    def get_run(self: Store, ref: str | int) -> RunRecord:
        if ref == ids[2] and not staled:  # its heartbeat stops: stale from now on
            with sqlite3.connect(db) as conn:
                conn.execute("UPDATE runs SET heartbeat_unix_s = ? WHERE id = ?",
                             (time.time() - 5000, ref))
            conn.close()
            staled.append(ref)
        return real(self, ref)

    monkeypatch.setattr(Store, "get_run", get_run)
    status, got = _page(db, status="running")
    assert status == 200, got
    assert staled == [ids[2]]
    assert [r["status"] for r in got["runs"]] == ["running"] * 3, got["runs"]
    assert sorted(int(r["id"]) for r in got["runs"]) == sorted(set(ids) - {ids[2]})
    assert got["total"] == 3 and "notes" not in got
