"""Which runs stored as running are running now, decided for them all inside SQLite
(``_live.LiveRuns.alive``), as the store decides each one; and the pages of running and
lost runs read through SQLite's indexes before the runs index is built, the pages the
index gives."""

from __future__ import annotations

import itertools
import os
import sqlite3
import time
from pathlib import Path
from typing import Any

import pytest

from wattwise.records import liveness
from wattwise.records.store import Store
from wattwise.server._sql import Reads, RunsQuery
from wattwise.server.runs_index import BUILD_PAUSE_S, QUIET_MAX_S, QUIET_S

DEAD = 2**22 + 9  # above Linux's largest pid: no such process
STALE_S = 120.0
NAMES = ["alpha", "Alpha-2", "Straße", "beta", "KELVIN \u212a", "gamma", "école"]


def _mixed(path: Path) -> dict[int, str]:
    """Runs stored as running of every kind ``status_of`` tells apart, among finished
    ones; each one's expected status."""
    now = time.time()
    with Store(path) as store:
        def run(k: int, pid: int | None) -> int:
            return store.create_run(name=f"{NAMES[k % len(NAMES)]}-{k}",
                                    started_unix_s=1000.0 + (k * 7) % 23, host={},
                                    hardware={}, sensors=[], versions={}, pid=pid)

        expected: dict[int, str] = {}
        kinds: dict[int, int] = {}
        for k in range(60):
            kind = k % 10
            rid = run(k, os.getpid() if kind == 1 else DEAD + k % 3 if kind < 6 else None)
            kinds[rid] = kind
            expected[rid] = "running" if kind == 1 else "lost"
            if kind >= 8:
                store.finish_run(rid, ended_unix_s=2000.0, status="finished",
                                 summary={"energy_j": float(k), "kind": "measured"})
                expected[rid] = "finished"
    con = sqlite3.connect(path)
    with con:
        for rid, want in list(expected.items()):
            k = kinds[rid]
            if want == "finished":
                continue
            if k == 2:  # another host, heartbeat fresh
                con.execute("UPDATE runs SET hostname = 'elsewhere', heartbeat_unix_s = ?"
                            " WHERE id = ?", (now, rid))
                expected[rid] = "running"
            elif k == 3:  # another host, heartbeat old
                con.execute("UPDATE runs SET hostname = 'elsewhere', heartbeat_unix_s = ?"
                            " WHERE id = ?", (now - 10 * STALE_S, rid))
            elif k == 4:  # another host, a heartbeat that is text: the start is used
                con.execute("UPDATE runs SET hostname = 'elsewhere', heartbeat_unix_s = 'x',"
                            " started_unix_s = ? WHERE id = ?", (now, rid))
                expected[rid] = "running"
            elif k == 5:  # a pid that is text: another host's rule, no heartbeat
                con.execute("UPDATE runs SET pid = 'x', heartbeat_unix_s = NULL"
                            " WHERE id = ?", (rid,))
            elif k == 6:  # no pid, heartbeat fresh
                con.execute("UPDATE runs SET heartbeat_unix_s = ? WHERE id = ?", (now, rid))
                expected[rid] = "running"
            elif k == 7:  # another host stored as a blob, heartbeat infinite: the start
                con.execute("UPDATE runs SET hostname = CAST('elsewhere' AS BLOB),"
                            " heartbeat_unix_s = 1e999 WHERE id = ?", (rid,))
    con.close()
    return expected


@pytest.fixture(scope="module")
def mixed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[int, str]]:
    path = tmp_path_factory.mktemp("live") / "runs.db"
    return path, _mixed(path)


def test_alive_decides_every_run_stored_as_running_as_the_store_does(
        mixed: tuple[Path, dict[int, str]]) -> None:
    path, expected = mixed
    reads = Reads(path)
    try:
        stored, running = reads._live.alive(STALE_S)
        decided = reads.liveness(sorted(stored), STALE_S)
    finally:
        reads.close()
    assert stored == {rid for rid, s in expected.items() if s != "finished"}
    assert running == {rid for rid, s in expected.items() if s == "running"}
    assert decided == {rid: "running" if rid in running else "lost" for rid in stored}
    with Store(path, readonly=True, stale_after_s=STALE_S) as store:
        assert {rid: store.get_run(rid).status for rid in expected} == expected


def test_a_pid_found_gone_is_asked_about_once_and_a_change_is_seen_at_once(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Three runs of one dead process: its pid is asked about once, at the first call,
    and not again after the runs stored as running change (a new one, read again)."""
    path = tmp_path / "runs.db"
    with Store(path) as store:
        lost = [store.create_run(name=f"killed-{k}", started_unix_s=1000.0 + k, host={},
                                 hardware={}, sensors=[], versions={}, pid=DEAD)
                for k in range(3)]
    asked: list[Any] = []
    real = liveness.gone

    def gone(pid: int) -> bool:
        asked.append(pid)
        return real(pid)

    monkeypatch.setattr("wattwise.records.liveness.gone", gone)
    # where the machine's process ids cannot be read, each pid is asked about
    monkeypatch.setattr("wattwise.server._live._process_ids", lambda: None)
    reads = Reads(path)
    try:
        assert reads._live.alive(STALE_S) == (frozenset(lost), frozenset())
        assert reads._live.alive(STALE_S) == (frozenset(lost), frozenset())
        assert asked == [DEAD]
        with Store(path) as store:  # a new run, alive: seen at the next call
            live = store.create_run(name="live", started_unix_s=1010.0, host={},
                                    hardware={}, sensors=[], versions={}, pid=os.getpid())
        stored, running = reads._live.alive(STALE_S)
        assert (stored, running) == (frozenset([*lost, live]), frozenset([live]))
        assert asked.count(DEAD) == 1
        with Store(path) as store:  # it ends: no longer stored as running
            store.finish_run(live, ended_unix_s=1020.0, status="finished",
                             summary={"energy_j": 1.0, "kind": "measured"})
        assert reads._live.alive(STALE_S) == (frozenset(lost), frozenset())
    finally:
        reads.close()


def test_a_pid_missing_from_the_process_list_is_lost_without_asking(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The machine's process ids, read once, tell 20,000 dead pids gone without a
    system call each; a live one is still asked about (its start time must match)."""
    path = tmp_path / "runs.db"
    with Store(path) as store:
        dead = store.create_run(name="killed", started_unix_s=1000.0, host={}, hardware={},
                                sensors=[], versions={}, pid=DEAD)
        live = store.create_run(name="live", started_unix_s=1010.0, host={}, hardware={},
                                sensors=[], versions={}, pid=os.getpid())
    asked: list[Any] = []
    real = liveness.gone

    def gone(pid: int) -> bool:
        asked.append(pid)
        return real(pid)

    monkeypatch.setattr("wattwise.records.liveness.gone", gone)
    reads = Reads(path)
    try:
        assert reads._live.alive(STALE_S) == (frozenset([dead, live]), frozenset([live]))
        assert asked == [os.getpid()]
    finally:
        reads.close()


def test_a_read_for_a_long_staleness_serves_a_shorter_one_not_a_longer_one(
        mixed: tuple[Path, dict[int, str]], monkeypatch: pytest.MonkeyPatch) -> None:
    """The read leaves out the runs of another host whose heartbeat is older than it
    looked for: kept for any staleness up to that, read again for a longer one."""
    from wattwise.server import _live

    path, _ = mixed
    reads = Reads(path)
    reads_made: list[float] = []
    real = reads._live._read_running

    def spy(cut: float) -> Any:
        reads_made.append(cut)
        return real(cut)

    monkeypatch.setattr(reads._live, "_read_running", spy)
    try:
        reads._live.prime()
        reads._live.alive(STALE_S)
        assert len(reads_made) == 1
        _, running = reads._live.alive(2 * _live._RECENT_S)
        assert len(reads_made) == 2
        # with a staleness of two hours, the old heartbeat (20 minutes) is recent
        assert running > reads._live.alive(STALE_S)[1]
    finally:
        reads.close()


LIVE_QUERIES = [
    RunsQuery(limit=lim, offset=off, q=q, status=status, sort=sort, desc=desc)
    for lim, off, q, status, sort, desc in itertools.product(
        (4, 50), (0, 3, 30), ("", "alpha", "ss", "k", "1", "nothing"), ("lost", "running"),
        ("started", "id", "name", "status", "duration", "energy", "emissions"),
        (True, False))
]


def test_running_and_lost_pages_from_sqlite_equal_the_index_pages(
        mixed: tuple[Path, dict[int, str]]) -> None:
    """Before the runs index is built, every page of running or lost runs but one sorted
    by energy or emissions (it waits for the index: ``test_energy_sort_unusable``,
    ``test_sql_pages_emissions``) is read through
    SQLite's indexes (``SqlPages.page_ids`` with ``alive``), in the query's order, the
    page the index gives once built, and holds the runs the store says."""
    path, expected = mixed
    fresh, built = Reads(path), Reads(path)
    try:
        built.warm()
        alive = fresh._live.alive(STALE_S)
        # energy and emissions last: a page sorted by either builds the index (stored
        # figures judged: ``_sql_pages.WAITS_FOR_INDEX``)
        waits = ("energy", "emissions")
        for query in sorted(LIVE_QUERIES, key=lambda q: q.sort in waits):
            if query.sort not in waits:
                assert not fresh._index.built.is_set()
            ids = fresh._pages.page_ids(query, alive)
            assert ids is not None, query
            assert not fresh._index.built.is_set()
            rows, total = fresh.live_page(query, STALE_S)
            want_rows, want_total = built.live_page(query, STALE_S)
            assert total == want_total, query
            got = [int(r["id"]) for r in rows]
            assert got == [int(r["id"]) for r in want_rows], query
            assert {expected[rid] for rid in got} <= {query.status}, query
        every = fresh.live_page(RunsQuery(status="lost", limit=500), STALE_S)
        assert every[1] == sum(s == "lost" for s in expected.values())
    finally:
        fresh.close()
        built.close()


def test_a_database_before_version_3_decides_its_pages_from_the_same_runs(
        mixed: tuple[Path, dict[int, str]], tmp_path: Path) -> None:
    """Without the indexes of schema version 3, a page of running or lost runs is every
    run stored as running in the query's order, kept where ``alive`` says so."""
    from wattwise.records import schema

    copy = tmp_path / "v2.db"
    source, target = sqlite3.connect(mixed[0]), sqlite3.connect(copy)
    source.backup(target)
    source.close()
    for name in schema.SORT_INDEXES:
        target.execute(f"DROP INDEX IF EXISTS {name}")
    target.execute("PRAGMA user_version = 2")
    target.commit()
    target.close()
    old, new = Reads(copy), Reads(mixed[0])
    try:
        for query in LIVE_QUERIES[::7]:
            assert old._pages.page_ids(query, old._live.alive(STALE_S)) is None
            got = old.live_page(query, STALE_S)
            want = new.live_page(query, STALE_S)
            assert got[1] == want[1], query
            assert [r["id"] for r in got[0]] == [r["id"] for r in want[0]], query
    finally:
        old.close()
        new.close()


def test_a_page_asked_for_hushes_the_build_until_every_order_is_made(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The build pauses longer between its chunks while a page is answered, so that
    the page's Python does not share the interpreter with it (never longer than
    ``QUIET_MAX_S`` at once); not once every order is made."""
    from wattwise.server import runs_index

    class Clock:  # the build's clock, advanced by its sleeps alone
        def __init__(self) -> None:
            self.now = 1000.0
            self.slept: list[float] = []

        def monotonic(self) -> float:
            return self.now

        def sleep(self, s: float) -> None:
            self.slept.append(s)
            self.now += s

    clock = Clock()
    monkeypatch.setattr(runs_index, "time", clock)
    path = tmp_path / "runs.db"
    Store(path).close()
    reads = Reads(path)
    try:
        reads._index.quiet.yields = True  # as for a large database (``Reads._prime``)
        reads._index.quiet.pause()
        assert clock.slept == [BUILD_PAUSE_S]
        reads.runs_page(RunsQuery())  # a page asked for: the next pause is longer
        clock.slept.clear()
        reads._index.quiet.pause()
        assert clock.slept[0] == BUILD_PAUSE_S
        assert 0 < sum(clock.slept[1:]) <= QUIET_S
        for _ in range(100):  # asked for without end: each pause ends all the same
            reads._index.quiet.hush()
            clock.now += QUIET_S / 2
        reads._index.quiet.until = clock.now + 100.0
        clock.slept.clear()
        reads._index.quiet.pause()
        assert sum(clock.slept) <= BUILD_PAUSE_S + QUIET_MAX_S
        reads.warm()  # every order made: a page no longer hushes anything
        clock.slept.clear()
        reads.runs_page(RunsQuery())
        reads._index.quiet.pause()
        assert clock.slept == [BUILD_PAUSE_S]
    finally:
        reads.close()
