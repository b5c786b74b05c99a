"""What a reader keeps of lost runs between requests: a run found lost with the same
columns stays lost without asking the system again, and a lost run's partial figures
are priced once while its row stays the same; a change to the row is seen."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path
from typing import Any

import pytest

from wattwise.records import liveness
from wattwise.records.store import SampleRow, Store
from wattwise.server._sql import Reads, RunsQuery
from wattwise.server.data import runs_payload

DEAD = 2**22 + 9  # above Linux's largest pid: no such process
START = 1_700_000_000.0


def _lost(path: Path, n: int = 3) -> list[int]:
    with Store(path) as store:
        ids = [store.create_run(name=f"killed-{k}", started_unix_s=START + k, host={},
                                hardware={}, sensors=[], versions={}, pid=DEAD)
               for k in range(n)]
        for rid in ids:
            store.add_samples(rid, [SampleRow(START + t, "cpu:model", 5.0, 5.0, 4.0, 6.0, False)
                                    for t in range(1, 4)])
    return ids


def test_a_run_found_lost_is_not_asked_about_again_until_its_row_changes(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "runs.db"
    ids = _lost(path)
    asked: list[Any] = []
    real = liveness.gone
    monkeypatch.setattr("wattwise.records.liveness.gone",
                        lambda pid: asked.append(pid) or real(pid))
    reads = Reads(path)
    try:
        assert set(reads.liveness(ids, 120.0).values()) == {"lost"}
        assert len(asked) == len(ids)
        assert set(reads.liveness(ids, 120.0).values()) == {"lost"}
        assert len(asked) == len(ids)  # kept: a process that is gone does not come back
        with sqlite3.connect(path) as conn:  # another host's run, with a fresh heartbeat
            conn.execute("UPDATE runs SET hostname = 'elsewhere', heartbeat_unix_s = ?"
                         " WHERE id = ?", (time.time(), ids[0]))
        reads._live._live_cols = (float("-inf"), {})  # the columns read again
        got = reads.liveness(ids, 120.0)
        assert got[ids[0]] == "running" and got[ids[1]] == got[ids[2]] == "lost"
    finally:
        reads.close()


def test_a_lost_runs_partial_figures_are_priced_once_per_row(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from wattwise.carbon import partial

    path = tmp_path / "runs.db"
    ids = _lost(path, 2)
    priced: list[int] = []
    real = partial.stored_partial_emissions
    monkeypatch.setattr(partial, "stored_partial_emissions",
                        lambda store, r, part: priced.append(r.id) or real(store, r, part))
    reads = Reads(path)
    try:
        with Store(path, readonly=True) as store:
            first = runs_payload(store, query=RunsQuery(), reads=reads)["runs"]
            again = runs_payload(store, query=RunsQuery(), reads=reads)["runs"]
            assert sorted(priced) == sorted(ids) and first == again
            assert {r["status"] for r in first} == {"lost"}
            assert all(r["energy_j"] == pytest.approx(15.0) for r in first)
        with Store(path) as store:  # one more sample reaches a lost run (a late flush)
            store.add_samples(ids[0], [SampleRow(START + 5, "cpu:model", 5.0, 5.0, 4.0, 6.0,
                                                 False)])
        with sqlite3.connect(path) as conn:
            conn.execute("UPDATE runs SET heartbeat_unix_s = ? WHERE id = ?", (START + 5, ids[0]))
        with Store(path, readonly=True) as store:
            rows = {r["id"]: r for r in runs_payload(store, query=RunsQuery(),
                                                     reads=reads)["runs"]}
        assert priced.count(ids[0]) == 2 and priced.count(ids[1]) == 1
        assert rows[ids[0]]["energy_j"] == pytest.approx(20.0)
    finally:
        reads.close()



def test_a_scrape_prices_a_lost_run_once_while_its_row_stays_the_same(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Its series and its share of the totals are kept between scrapes: a SIGKILLed job of
    a million samples took seconds to price on every scrape."""
    from fastapi.testclient import TestClient

    from wattwise.server import metrics
    from wattwise.server.app import create_app

    path = tmp_path / "runs.db"
    ids = _lost(path, 2)
    priced: list[int] = []
    real = metrics._shares

    def counted(store: Any, reads: Any, todo: list[int], *a: Any) -> Any:
        priced.extend(todo)  # its share, whose grams its own series gives too
        return real(store, reads, todo, *a)

    monkeypatch.setattr(metrics, "_shares", counted)
    with TestClient(create_app(path), base_url="http://127.0.0.1") as c:
        first = c.get("/metrics").text
        after_first = len(priced)
        second = c.get("/metrics").text
    assert after_first >= len(ids) and len(priced) == after_first  # none priced again
    assert 'wattwise_runs{status="lost"} 2.0' in first
    grams = [line for line in first.splitlines() if line.startswith("wattwise_run_emissions")]
    assert len(grams) == 2 and grams == [
        line for line in second.splitlines() if line.startswith("wattwise_run_emissions")]
