"""``bench``'s rating and the dashboard's leaderboard read the same stored results
(``bench.stored``): each edit below made one rank a result the other left out, or
take another result as a name's latest."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.server._results import BENCH, START, add_bench, result, results_db
from wattwise.bench.rating import _latest_per_name, stored_results
from wattwise.records.store import Store
from wattwise.server import create_app


def _sql(path: Path, query: str, *params: Any) -> None:
    conn = sqlite3.connect(path)
    with conn:
        conn.execute(query, params)
    conn.close()


def _both(path: Path) -> tuple[dict[str, float], dict[str, float], int]:
    """Each name's latest J/sample as ``bench``'s rating reads its peers and as the leaderboard
    ranks it, and how many records the leaderboard skipped."""
    peers = {r.name: r.energy_j_per_sample.mean
             for r in _latest_per_name(stored_results(path))}
    with TestClient(create_app(path), base_url="http://127.0.0.1") as client:
        board = client.get("/api/bench").json()
    shown = {e["name"]: e["energy_j_per_sample"]["mean"]
             for g in board["groups"] for e in g["entries"]}
    return peers, shown, int(board["skipped"])


@pytest.fixture
def db(tmp_path: Path) -> tuple[Path, list[int]]:
    path = tmp_path / "runs.db"
    return path, results_db(path)["bench"]


def test_a_run_without_its_bench_tag_is_a_result_to_both(db: tuple[Path, list[int]]) -> None:
    path, ids = db
    _sql(path, "UPDATE runs SET tags_json = '{}' WHERE id = ?", ids[0])
    peers, shown, skipped = _both(path)
    assert peers == shown and BENCH[0][0] in peers and skipped == 0


def test_a_name_key_in_the_window_s_extra_does_not_rename_the_window(
        db: tuple[Path, list[int]]) -> None:
    path, ids = db
    _sql(path, "UPDATE windows SET extra_json = json_set(extra_json, '$.name', 'other')"
         " WHERE run_id = ?", ids[1])
    peers, shown, _ = _both(path)
    assert peers == shown and BENCH[1][0] in peers


@pytest.mark.parametrize("mean", ["'0.004'", "json('true')"])
def test_a_j_per_sample_that_is_not_a_number_is_ranked_by_neither(
        db: tuple[Path, list[int]], mean: str) -> None:
    """Text was read with ``float`` (a figure with stars); the study pages call it a
    damaged record."""
    path, ids = db
    _sql(path, "UPDATE windows SET extra_json = json_set(extra_json,"
         f" '$.bench.energy_j_per_sample.mean', {mean}) WHERE run_id = ?", ids[1])
    peers, shown, skipped = _both(path)
    assert peers == shown and BENCH[1][0] not in peers and skipped == 1


def test_a_kind_changed_in_the_result_alone_is_ranked_by_neither(
        db: tuple[Path, list[int]]) -> None:
    """A result saying estimated in a window saying measured (or the other way) was
    filed by its own word alone: among the measured results, its run's figures saying
    otherwise."""
    path, ids = db
    _sql(path, "UPDATE windows SET extra_json = json_set(extra_json, '$.bench.kind',"
         " 'estimated') WHERE run_id = ?", ids[2])
    _sql(path, "UPDATE windows SET kind = 'estimated' WHERE run_id = ?", ids[3])
    peers, shown, skipped = _both(path)
    assert peers == shown and skipped == 2
    assert not {BENCH[2][0], BENCH[3][0]} & set(peers)


def test_both_take_the_same_latest_of_two_started_at_once(tmp_path: Path) -> None:
    path = tmp_path / "runs.db"
    with Store(path) as store:
        for n, j in BENCH[:4]:
            add_bench(store, result(n, j), START)
        add_bench(store, result(BENCH[0][0], 0.002), START)  # stored last
    peers, shown, _ = _both(path)
    assert peers == shown and peers[BENCH[0][0]] == 0.002
