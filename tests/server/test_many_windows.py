"""A run with a window around every batch (thousands of them): the run's API answer and
its saved HTML report list the first ``MAX_LISTED_WINDOWS`` in time, say how many the
run has and where to get them all, and read only those from the database."""

from __future__ import annotations

import json
import random
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from wattwise.records.store import Store
from wattwise.records.window_list import MAX_LISTED_WINDOWS, listed_windows
from wattwise.server.data import run_payload
from wattwise.server.report import run_report_html

START = 1_700_000_000.0
#: windows on the many-windows run: more than are listed
MANY = 2000
#: each window's length and the time from one's start to the next's (seconds)
LENGTH_S, EVERY_S = 0.004, 0.005
_DATA = '<script type="application/json" id="wattwise-data">'


def many_windows_db(path: Path, n: int = MANY) -> dict[str, int]:
    """A database with a finished run of ``n`` back-to-back windows ``batch-0`` ...
    (written in a shuffled order, so that only the read sorts them) and a run with
    two windows; their ids, as ``many`` and ``few``."""
    ids = {}
    with Store(path) as store:
        for name, count in (("many", n), ("few", 2)):
            rid = store.create_run(
                name=name, started_unix_s=START, host={"hostname": "lab-01"}, hardware={},
                sensors=[{"name": "model", "domains": [
                    {"name": "cpu:model", "kind": "estimated", "source": "model",
                     "in_total": True}]}],
                versions={})
            end = count * EVERY_S + 1.0
            store.finish_run(rid, ended_unix_s=START + end, status="finished", summary={
                "energy_j": 10.0 * end, "low_j": 9.0 * end, "high_j": 11.0 * end,
                "kind": "estimated", "duration_s": end, "domains": [], "notes": []})
            ids[name] = rid
    rows = []
    for rid, count in ((ids["many"], n), (ids["few"], 2)):
        for k in range(count):
            a = START + 0.5 + k * EVERY_S
            rows.append((rid, f"batch-{k}", a, a + LENGTH_S, LENGTH_S, 0.04, 0.036, 0.044,
                         "estimated", "[]", None, "[]", None))
    random.Random(7).shuffle(rows)
    insert_windows(path, rows)
    return ids


def insert_windows(path: Path, rows: list[tuple[Any, ...]]) -> None:
    """Bulk-insert window rows (run id, name, start, end, duration, energy, low, high,
    kind, domains, attribution, gaps, extra) straight into SQLite: thousands at once."""
    conn = sqlite3.connect(path)
    with conn:
        conn.executemany(
            "INSERT INTO windows (run_id, name, start_unix_s, end_unix_s, duration_s,"
            " energy_j, low_j, high_j, kind, domains_json, attribution_json, gaps_json,"
            " extra_json) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
    conn.close()


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, int]]:
    path = tmp_path_factory.mktemp("many") / "w.db"
    return path, many_windows_db(path)


def _note(rid: int) -> str:
    return (f"{MAX_LISTED_WINDOWS:,} of {MANY:,} windows listed (the first in time); "
            f"`wattwise export {rid} -f json` gives them all")


def test_the_api_lists_the_first_windows_in_time_and_says_how_many_there_are(
        db: tuple[Path, dict[str, int]]) -> None:
    from fastapi.testclient import TestClient

    from wattwise.server.app import create_app

    path, ids = db
    with TestClient(create_app(path), base_url="http://127.0.0.1") as c:
        r = c.get(f"/api/runs/{ids['many']}")
        few = c.get(f"/api/runs/{ids['few']}").json()
    assert r.status_code == 200
    got = r.json()
    assert MAX_LISTED_WINDOWS == 500
    assert [w["name"] for w in got["windows"]] == [f"batch-{k}" for k in range(500)]
    assert got["windows_total"] == MANY
    assert _note(ids["many"]) in got["notes"]
    # a run with fewer windows than the limit: all of them, and no note
    assert [w["name"] for w in few["windows"]] == ["batch-0", "batch-1"]
    assert few["windows_total"] == 2 and not any("windows listed" in n for n in few["notes"])


def test_only_the_listed_windows_are_read(db: tuple[Path, dict[str, int]]) -> None:
    path, ids = db
    with Store(path, readonly=True) as store:
        assert len(store.windows(ids["many"])) == MANY  # unchanged without a limit
        assert store.window_count(ids["many"]) == MANY
        first = store.windows(ids["many"], limit=3)
        windows, total, notes = listed_windows(store, ids["many"], limit=10)
    assert [w["name"] for w in first] == ["batch-0", "batch-1", "batch-2"]
    assert [w["name"] for w in windows] == [f"batch-{k}" for k in range(10)]
    assert total == MANY and notes == [
        f"10 of {MANY:,} windows listed (the first in time); "
        f"`wattwise export {ids['many']} -f json` gives them all"]


def _payload(html: str) -> dict[str, Any]:
    start = html.index(_DATA) + len(_DATA)
    data: dict[str, Any] = json.loads(html[start: html.index("</script>", start)])
    return data


def test_the_saved_report_carries_the_same_listed_windows_and_says_so(
        db: tuple[Path, dict[str, int]]) -> None:
    path, ids = db
    rid = ids["many"]
    with Store(path, readonly=True) as store:
        page = _payload(run_report_html(store, rid))["data"][f"/api/runs/{rid}"]
        served = run_payload(store, rid)
    assert page["windows"] == served["windows"] and len(page["windows"]) == 500
    assert page["windows_total"] == MANY
    assert _note(rid) in page["run"]["summary"]["notes"]  # where the page shows notes
