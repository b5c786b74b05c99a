"""Runs another program deletes, or inserts below the highest id read, are found by the
runs index at its next look, not at its next pass over every run (``runs_recheck
.same_count``): the list's total stood above ``count(*)`` (by 35 in one storm of
deletions) and a run inserted at id -7 was missing for up to 30 s."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests._damage import tracked_run
from wattwise.server import runs_recheck
from wattwise.server._sql import Reads
from wattwise.server.app import create_app
from wattwise.server.runs_index import SORTS, RunsIndex, RunsQuery

pytestmark = pytest.mark.usefixtures("no_ambient_zone")


def _stored(db: Path) -> list[int]:
    with sqlite3.connect(db) as conn:
        got = sorted(int(r[0]) for r in conn.execute("SELECT id FROM runs"))
    conn.close()
    return got


def _edit(db: Path, *sql: str) -> None:
    conn = sqlite3.connect(db)
    with conn:
        for statement in sql:
            conn.execute(statement)
    conn.close()


def _copy_to(old: int, new: int) -> str:
    return f"INSERT INTO runs SELECT {new}, name, status, started_unix_s, ended_unix_s," \
           " heartbeat_unix_s, hostname, pid, pid_started_unix_s, exit_code, host_json," \
           " hardware_json, sensors_json, versions_json, command_json, summary_json," \
           f" tags_json FROM runs WHERE id = {old}"


def _ordered(reads: Reads) -> RunsIndex:
    """An index with every sort order made (before another program's change)."""
    index = RunsIndex(reads.rows)
    for key in SORTS:
        index.page(RunsQuery(limit=2, offset=0, sort=key, desc=True))
    return index


def _as_fresh(index: RunsIndex, reads: Reads, limit: int) -> None:
    """Every order of ``index`` is that of an index built now (the kept orders lose the
    runs gone and place those inserted, in order)."""
    fresh = RunsIndex(reads.rows)
    for key in SORTS:
        for desc in (True, False):
            q = RunsQuery(limit=limit, offset=0, sort=key, desc=desc)
            assert index.page(q) == fresh.page(q), q


@pytest.fixture
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setattr(runs_recheck, "RECHECK_S", 1e9)  # no pass finds them
    path = tmp_path / "runs.db"
    for _ in range(6):
        tracked_run(path, seconds=0.05)
    return path


@pytest.mark.parametrize("sort", ["started", "id", "energy"])
def test_the_index_counts_runs_deleted_and_inserted_below_elsewhere(
        db: Path, sort: str) -> None:
    ids = _stored(db)
    reads = Reads(db)
    try:
        index = _ordered(reads)
        query = RunsQuery(limit=2, offset=0, sort=sort, desc=True)
        assert index.page(query)[1] == 6
        # deleted (the oldest), and one inserted below every id
        _edit(db, f"DELETE FROM runs WHERE id IN ({ids[0]}, {ids[1]})", _copy_to(ids[2], -7))
        total = index.page(query)[1]
        assert total == len(_stored(db)) == 5
        assert sorted(index.entries) == _stored(db)
        asc = index.page(RunsQuery(limit=50, offset=0, sort="id", desc=False))
        assert asc == ([-7, *ids[2:]], 5)
        _as_fresh(index, reads, 50)
    finally:
        reads.close()


def test_the_runs_list_and_metrics_total_what_is_stored(
        db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # every page from the index (the first ones come from SQLite's own, which count)
    monkeypatch.setattr(RunsIndex, "ready", lambda self, sort: True)
    ids = _stored(db)
    with TestClient(create_app(db), base_url="http://127.0.0.1") as client:
        def page(**params: str) -> tuple[list[int], int, list[str]]:
            got = client.get("/api/runs", params=params).json()
            return [int(r["id"]) for r in got["runs"]], got["total"], got.get("notes", [])

        first, total, _ = page(sort="energy", limit="2")
        assert total == 6
        gone = next(i for i in ids if i not in first)  # off the page: none reads it
        _edit(db, f"DELETE FROM runs WHERE id = {gone}")
        assert page(sort="energy", limit="2") == (first, 5, [])
        _edit(db, _copy_to(ids[-1], 0))
        assert page(sort="id", order="asc", limit="1") == ([0], 6, [])
        metrics = client.get("/metrics").text
    finished = [line for line in metrics.splitlines()
                if line.startswith("wattwise_runs{") and 'status="finished"' in line]
    assert finished and float(finished[0].rsplit(" ", 1)[1]) == 6, finished


@pytest.mark.parametrize("inserted", [3, 20])  # placed in the kept orders; past 16 made again
def test_runs_inserted_below_take_their_place_in_every_kept_order(
        db: Path, inserted: int) -> None:
    import random

    rng = random.Random(inserted)
    ids = _stored(db)
    reads = Reads(db)
    try:
        index = _ordered(reads)
        statements = []
        for k in range(inserted):  # copies of stored runs, their figures and names varied
            new = -1000 - k
            statements += [_copy_to(rng.choice(ids), new),
                           f"UPDATE runs SET name = '{rng.choice('abJz')}{k % 3}',"
                           f" started_unix_s = started_unix_s + {rng.uniform(-5, 5)},"
                           f" summary_json = json_set(summary_json, '$.energy_j',"
                           f" {rng.choice([0.5, 3.0, 1e9, -1.0])}) WHERE id = {new}"]
        _edit(db, *statements)
        _as_fresh(index, reads, 100)
        assert index.page(RunsQuery(limit=1))[1] == 6 + inserted
    finally:
        reads.close()


@pytest.mark.parametrize("to", [-1500, 0, "below", 10**6])
def test_a_run_re_keyed_below_every_other_is_found_at_once(db: Path, to: object) -> None:
    """A re-key (or a deletion and an insert) that leaves the count of runs as it was, to
    an id below every other: the lowest id is one the index lacks (it was missing until
    the next pass over every run: 29.7 s in one try)."""
    ids = _stored(db)
    reads = Reads(db)
    try:
        index = _ordered(reads)
        moved = ids[3]
        if to == "below":  # deleted, and another copied below every id
            _edit(db, f"DELETE FROM runs WHERE id = {ids[1]}", _copy_to(ids[2], -3))
            expected = sorted([-3, *(i for i in ids if i != ids[1])])
        else:
            _edit(db, f"UPDATE runs SET id = {to} WHERE id = {moved}")
            expected = sorted([int(str(to)), *(i for i in ids if i != moved)])
        assert _stored(db) == expected
        assert index.page(RunsQuery(limit=50, offset=0, sort="id", desc=False)) == (
            expected, 6)
        _as_fresh(index, reads, 50)
    finally:
        reads.close()
