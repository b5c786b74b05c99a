"""Runs stored as running are told running or lost one by one, however many there are.

After many killed jobs, thousands of runs are stored as running with a dead process.
The runs list's ``running`` and ``lost`` filters count and page every one of them
(they once stopped at 10,000), in the query's order, the same whether the page is
read through SQLite's indexes (the runs index not built yet) or the runs index.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from wattwise.records.store import Store
from wattwise.server._sql import Reads, RunsQuery
from wattwise.server.data import runs_payload

DEAD = 2**22 + 9  # above Linux's largest pid: no such process
START = 1_700_000_000.0
#: Copies of one killed run: past the 10,000 the status filters once stopped at.
COPIES = 10_050
STALE_S = 120.0


def _killed_runs(path: Path) -> dict[str, Any]:
    """One killed run, ``COPIES`` more of it (``killed-1`` ... started 1 s apart), two
    alive (this process) among them and one finished."""
    with Store(path) as store:
        template = store.create_run(name="killed", started_unix_s=START, host={},
                                    hardware={}, sensors=[], versions={}, pid=DEAD)
        alive = [store.create_run(name=f"alive-{k}", started_unix_s=START + at, host={},
                                  hardware={}, sensors=[], versions={}, pid=os.getpid())
                 for k, at in enumerate((77.5, 5000.5))]
        done = store.create_run(name="done", started_unix_s=START + 3.5, host={},
                                hardware={}, sensors=[], versions={})
        store.finish_run(done, ended_unix_s=START + 9.0, status="finished",
                         summary={"energy_j": 1.0, "kind": "measured", "domains": []})
    conn = sqlite3.connect(path)
    with conn:
        cols = [str(r[1]) for r in conn.execute("PRAGMA table_info(runs)") if r[1] != "id"]
        copied = ", ".join("name || '-' || k" if c == "name" else
                           "started_unix_s + k" if c == "started_unix_s" else c for c in cols)
        conn.execute(
            "WITH RECURSIVE n(k) AS (SELECT 1 UNION ALL SELECT k + 1 FROM n WHERE k < ?)"
            f" INSERT INTO runs ({', '.join(cols)}) SELECT {copied} FROM n, runs"
            " WHERE runs.id = ?", (COPIES, template))
        by_start = [(float(r[1]), int(r[0])) for r in conn.execute(
            "SELECT id, started_unix_s FROM runs WHERE status = 'running'")]
    conn.close()
    lost = [rid for _, rid in sorted(by_start, reverse=True) if rid not in alive]
    return {"lost": lost, "alive": alive[::-1], "done": done}


@pytest.fixture(scope="module")
def killed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    path = tmp_path_factory.mktemp("killed") / "runs.db"
    return path, _killed_runs(path)


@pytest.fixture(scope="module")
def built(killed: tuple[Path, dict[str, Any]]) -> Iterator[Reads]:
    """The runs index built, with every order."""
    reads = Reads(killed[0])
    reads.warm()
    yield reads
    reads.close()


def _ids(reads: Reads, query: RunsQuery) -> tuple[list[int], int]:
    rows, total = reads.live_page(query, STALE_S)
    return [int(r["id"]) for r in rows], total


def test_lost_and_running_count_and_page_every_run(
    killed: tuple[Path, dict[str, Any]]
) -> None:
    path, got = killed
    store = Store(path, readonly=True)
    lost = runs_payload(store, query=RunsQuery(status="lost", limit=50, offset=10_000))
    assert lost["total"] == COPIES + 1 == len(got["lost"])
    assert [r["id"] for r in lost["runs"]] == got["lost"][10_000:10_050]
    assert {r["status"] for r in lost["runs"]} == {"lost"}
    assert all(r["so_far"] for r in lost["runs"])
    last = runs_payload(store, query=RunsQuery(status="lost", limit=50, offset=COPIES))
    assert [r["id"] for r in last["runs"]] == got["lost"][COPIES:]
    running = runs_payload(store, query=RunsQuery(status="running", limit=50))
    assert running["total"] == 2
    assert [r["id"] for r in running["runs"]] == got["alive"]
    assert {r["status"] for r in running["runs"]} == {"running"}


@pytest.mark.parametrize("sort", ["started", "id", "name", "status", "energy", "duration"])
def test_a_lost_page_is_in_the_querys_order_before_and_after_the_index_is_built(
    killed: tuple[Path, dict[str, Any]], built: Reads, sort: str
) -> None:
    path, got = killed
    every = COPIES + 10
    early = Reads(path)  # answers from SQLite's indexes where it can, as a server starting
    try:
        for desc in (True, False):
            query = RunsQuery(status="lost", sort=sort, desc=desc, limit=every)
            from_sql, n = _ids(early, query)
            from_index, n_index = _ids(built, query)
            assert n == n_index == len(got["lost"])
            assert from_sql == from_index
            assert sorted(from_index) == sorted(got["lost"])
            if sort == "started":
                assert from_index == (got["lost"] if desc else got["lost"][::-1])
            # the lost runs keep the order of every run stored as running
            stored, _ = built.runs_page(RunsQuery(status="running", sort=sort, desc=desc,
                                                  limit=every))
            assert from_index == [int(r["id"]) for r in stored
                                  if int(r["id"]) not in got["alive"]]
    finally:
        early.close()


def test_a_name_filter_with_lost_counts_every_match(
    killed: tuple[Path, dict[str, Any]]
) -> None:
    path, _ = killed
    reads = Reads(path)
    try:
        # killed-77, killed-770 ... killed-779 and killed-7700 ... killed-7799
        ids, total = _ids(reads, RunsQuery(status="lost", q="killed-77", limit=500))
        assert total == len(ids) == 111
        ids, total = _ids(reads, RunsQuery(status="running", q="alive", limit=500))
        assert total == 2
    finally:
        reads.close()


def test_liveness_decides_as_the_store_does(killed: tuple[Path, dict[str, Any]]) -> None:
    path, got = killed
    ids = [*got["lost"][:5], *got["alive"], got["done"]]
    reads = Reads(path)
    try:
        decided = reads.liveness(ids, STALE_S)
    finally:
        reads.close()
    with Store(path, readonly=True, stale_after_s=STALE_S) as store:
        assert decided == {rid: store.get_run(rid).status for rid in ids}
    assert [decided[rid] for rid in got["alive"]] == ["running", "running"]
