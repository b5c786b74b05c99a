"""``/api/runs?sort=duration``: a stored duration that is not usable
(``records.judged_stored.duration_fault``: 1e300 s, 5e8 s on a 3-second run, -5, text,
a stored ``true``, longer than the run's start to end past the slack) sorts with the runs
that have no duration, last, by id, in both orders, as a damaged energy or emissions
figure does; its row still shows the duration judged in its place. The page read
through SQLite's index before the runs index is built is the index's page, at every
offset, with every filter. A run whose summary stored 1e300 s was once listed first by
duration, its row showing 3 s."""

from __future__ import annotations

import itertools
import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from wattwise.records import schema
from wattwise.records.store import Store
from wattwise.server import _sql_pages
from wattwise.server._sql import Reads
from wattwise.server._sql_pages import SqlPages
from wattwise.server._usable_sql import usable
from wattwise.server.app import create_app
from wattwise.server.runs_index import ENTRY_COLUMNS, RunsIndex, RunsQuery, entry_of

START = 1.7e9
#: Usable stored durations (raw JSON) on runs of 10 s (a slack of 1 s), ties among them.
USABLE = ["3.0", "3", "7.5", "0.01", "0.010001", "9.0", "7.5", "1.25", "10", "11",
          "10.999999", "2.5", "9.0", "4"]
#: Stored durations that are not usable, as raw JSON, and each run's start to end (s).
DAMAGED = [("1e300", 10.0), ("5e8", 3.0), ("-5", 10.0), ('"text"', 10.0), ('"NaN"', 10.0),
           ("true", 10.0), ("1" + "0" * 400, 10.0), ("11.000001", 10.0), ("11.5", 10.0),
           ("1010.0001", 1000.0), ("2e9", 0.0), ("[3]", 10.0),
           # far shorter than the run's start to end: under a thousandth, 0.25 s below
           ("0.0", 10.0), ("-0.0", 10.0), ("0.009", 10.0), ("1e-12", 1.0),
           # far shorter than the summary's own window (5 s), though not the run's (10 s)
           ('0.004, "start_unix_s": 100.0, "end_unix_s": 105.0', 10.0),
           # its stored power is its energy over the run's 10 s, not over 0.5 s
           ('0.5, "avg_power_w": 0.5', 10.0), ('3, "avg_power_w": 0.5', 10.0)]
#: Just inside the slack of a long run (1000 s: 1 %), and one without a recorded end
#: (nothing to judge it against): usable.
EDGE = [("1010", 1000.0), ("5e8", None),
        # a tiny run: its window is within 0.25 s of 0, whatever the fraction
        ("0.0", 0.2), ("0.0", 0.25),
        # the summary's own window of 0.1 s is the one judged against, not the run's 10 s
        ('0.0, "start_unix_s": 100.0, "end_unix_s": 100.1', 10.0),
        # an own window that is no window (text, reversed): the run's start to end only
        ('0.5, "start_unix_s": "a", "end_unix_s": 105.0', 10.0),
        ('0.5, "start_unix_s": 105.0, "end_unix_s": 100.0', 10.0),
        # its stored power is its energy over 0.5 s: the record's own (the machine slept)
        ('0.5, "avg_power_w": 10.0', 10.0), ('0.001, "avg_power_w": 5000', 10.0),
        # a power that tells neither: only a thousandth of the window is judged
        ('0.5, "avg_power_w": 3.0', 10.0)]


def _db(tmp_path: Path) -> tuple[Path, set[int], int]:
    """Usable, damaged and missing durations with several statuses and names; the ids of
    the damaged ones, and that of the 5e8 s stored on a 3-second run."""
    db = tmp_path / "runs.db"
    with Store(db) as store:
        seed = store.create_run(name="seed", started_unix_s=START, host={"hostname": "h"},
                                hardware={}, versions={}, sensors=[])
        store.finish_run(seed, ended_unix_s=START + 1, status="finished", summary={})
    runs: list[tuple[str | None, float | None, str]] = []  # summary, window, kind
    runs += [(f'{{"energy_j": 5.0, "duration_s": {d}}}', 10.0, "usable") for d in USABLE]
    runs += [(f'{{"energy_j": 5.0, "duration_s": {d}}}', w, "damaged") for d, w in DAMAGED]
    runs += [(f'{{"energy_j": 5.0, "duration_s": {d}}}', w, "usable") for d, w in EDGE]
    runs += [('{"energy_j": 5.0, "duration_s": NaN}', 10.0, "python"),  # SQLite: not JSON
             ('{"energy_j": 5.0}', 6.0, "usable"), ('{"duration_s": null}', 8.0, "usable"),
             ("not json", 4.0, "usable"), ("[1, 2]", 5.0, "usable")]
    # a summary holding no total is none (``records.rows.loads_summary``): every output
    # gives the run its start to end, so a duration it holds is not ranked
    runs += [('{"duration_s": 3.0}', 10.0, "damaged"),
             ('{"duration_s": 7.5, "notes": []}', 10.0, "damaged")]
    runs += [(None, None, "running")] * 4  # running or lost: a heartbeat, or none
    # no stored duration and a stored end that is not usable (``records.queries.end_fault``):
    # SQLite's key is from that end, the rule's none
    runs += [('{"energy_j": 5.0}', 10.0, f"end:{end}") for end in (
        "1e300", "'late'", "started_unix_s - 100", "started_unix_s + 2e9", "9e999")]
    statuses = ["finished", "failed", "interrupted", "lost", "finished"]
    damaged: set[int] = set()
    short = 0
    with sqlite3.connect(db) as conn:
        cols = [c[1] for c in conn.execute("PRAGMA table_info(runs)")][1:]
        row = conn.execute(f"SELECT {', '.join(cols)} FROM runs WHERE id = ?",
                           (seed,)).fetchone()
        base = dict(zip(cols, row, strict=True))
        order = list(range(len(runs)))
        order = order[::3] + order[1::3] + order[2::3]  # ids not in the durations' order
        for n, k in enumerate(order):
            summary, window, kind = runs[k]
            started = START + n
            status = "running" if summary is None else statuses[n % len(statuses)]
            values = {**base, "name": f"job-{n % 3}-{n}", "status": status,
                      "started_unix_s": started, "summary_json": summary,
                      "ended_unix_s": None if window is None else started + window,
                      "heartbeat_unix_s": started + 2 if summary is None and n % 2 else None}
            rid = conn.execute(f"INSERT INTO runs ({', '.join(cols)}) VALUES"
                               f" ({', '.join('?' * len(cols))})",
                               tuple(values[c] for c in cols)).lastrowid
            assert rid is not None
            if kind.startswith("end:"):
                conn.execute(f"UPDATE runs SET ended_unix_s = {kind[4:]} WHERE id = ?", (rid,))
                damaged.add(rid)
            if kind == "damaged":
                damaged.add(rid)
                short = rid if summary and '"duration_s": 5e8' in summary else short
    return db, damaged, short


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, set[int], int]:
    return _db(tmp_path_factory.mktemp("durations"))


def test_sqlites_index_puts_a_damaged_duration_first(made: tuple[Path, set[int], int]
                                                     ) -> None:
    # what the pages below must skip: the stored 1e300 s tops the index's order
    key = schema.SORT_KEYS["duration"]
    with sqlite3.connect(made[0]) as conn:
        assert conn.execute(f"SELECT {key} FROM runs WHERE {schema.VALUED['duration']}"
                            f" ORDER BY {key} DESC LIMIT 1").fetchone()[0] == 1e300


def test_the_sql_rule_is_the_index_rule_on_every_run(made: tuple[Path, set[int], int]
                                                     ) -> None:
    db, damaged, _ = made
    with sqlite3.connect(db) as conn:
        rows = conn.execute(f"SELECT {ENTRY_COLUMNS}, {usable('duration')} FROM runs"
                            ).fetchall()
    judged = {entry_of(r)[0]: (entry_of(r)[1].duration_usable, bool(r[-1])) for r in rows}
    assert {rid for rid, (rule, _) in judged.items() if not rule} == damaged
    assert all(rule == sql for rule, sql in judged.values())


def test_the_index_sorts_a_damaged_duration_with_the_runs_without_one(
        made: tuple[Path, set[int], int]) -> None:
    db, damaged, _ = made
    reads = Reads(db)
    try:
        index = RunsIndex(reads.rows)
        valued, missing = index.order("duration")
    finally:
        reads.close()
    assert damaged <= set(missing) and not damaged & set(valued)
    assert missing == sorted(missing)


@pytest.mark.parametrize("walk_max", [None, 4])  # 4: counted inside SQLite
@pytest.mark.parametrize("desc", [True, False])
@pytest.mark.parametrize("status", ["", "finished", "failed", "lost", "running"])
@pytest.mark.parametrize("q", ["", "job-1", "7"])
def test_a_page_before_the_index_is_the_index_page(
        made: tuple[Path, set[int], int], monkeypatch: pytest.MonkeyPatch,
        walk_max: int | None, desc: bool, status: str, q: str) -> None:
    db, damaged, _ = made
    if walk_max is not None:
        monkeypatch.setattr(_sql_pages, "_WALK_MAX", walk_max)
    reads = Reads(db)
    try:
        pages = SqlPages(reads.rows, RunsIndex(reads.rows), 30.0)
        index = RunsIndex(reads.rows)
        index.update()
        for offset, limit in itertools.chain(
                ((o, 5) for o in (0, 1, 4, 9, 14, 17, 22, 30, 45)), [(0, 50), (3, 1000)]):
            query = RunsQuery(limit=limit, offset=offset, q=q, status=status,
                              sort="duration", desc=desc)
            got = pages.page_ids(query)
            assert got is not None, query
            assert got == index.page(query), query
        every, _ = index.page(RunsQuery(limit=1000, q=q, status=status, sort="duration",
                                        desc=desc))
        valued = {rid for rid, e in index.entries.items() if e.duration_s is not None}
        tail = [rid for rid in every if rid not in valued - damaged]
        assert every[len(every) - len(tail):] == tail  # the damaged among them, by id
        assert tail == sorted(tail, reverse=desc)
    finally:
        reads.close()


def _rows(db: Path, url: str) -> list[dict[str, Any]]:
    with TestClient(create_app(db), base_url="http://localhost") as c:
        got = c.get(url)
        assert got.status_code == 200, got.text[:300]
        return list(got.json()["runs"])


@pytest.mark.parametrize("order", ["desc", "asc"])
def test_api_runs_by_duration_lists_a_damaged_duration_last(
        made: tuple[Path, set[int], int], order: str) -> None:
    db, damaged, short = made
    rows = _rows(db, f"/api/runs?sort=duration&order={order}&limit=5")
    assert rows and not {r["id"] for r in rows} & damaged
    every = _rows(db, f"/api/runs?sort=duration&order={order}&limit=500")
    ids = [r["id"] for r in every]
    last_usable = max(k for k, rid in enumerate(ids) if rid not in damaged and
                      json.dumps(every[k]["duration_s"]) != "null")
    assert all(ids.index(rid) > last_usable for rid in damaged if rid in ids)
    # its row shows the duration judged in its place: the run's start to end
    assert next(r for r in every if r["id"] == short)["duration_s"] == 3.0


def test_a_tie_across_the_first_page_is_not_read_to_its_end(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # lost runs of 0 s, many: SQLite orders a usable duration as the index does, so the
    # first page ascending reads a page's worth, not every tie and then a count of all
    db = tmp_path / "runs.db"
    with Store(db) as store:
        for k in range(40):
            rid = store.create_run(name=f"r{k}", started_unix_s=START + k,
                                   host={"hostname": "h"}, hardware={}, versions={},
                                   sensors=[])
            # 0 s on a run of 0.2 s: usable (within 0.25 s of its window)
            store.finish_run(rid, ended_unix_s=START + k + (0.2 if k % 4 else 5),
                             status="finished",
                             summary={"energy_j": 1.0, "duration_s": 0.0 if k % 4 else 2.5})
    monkeypatch.setattr(_sql_pages, "_WALK_MAX", 25)

    def counted(*_: object) -> None:
        raise AssertionError("counted every summary for a first page")

    monkeypatch.setattr(_sql_pages, "_counted_ids", counted)
    reads = Reads(db)
    try:
        pages = SqlPages(reads.rows, RunsIndex(reads.rows), 30.0)
        index = RunsIndex(reads.rows)
        for desc, offset in ((False, 0), (False, 3), (True, 8), (True, 12)):
            query = RunsQuery(limit=5, offset=offset, sort="duration", desc=desc)
            assert pages.page_ids(query) == index.page(query), query
    finally:
        reads.close()
