"""A ``/metrics`` scrape waits a bounded time for the runs index and the pricing of lost
runs (``server.metrics_wait``): past it, it leaves the totals and the per-run series out,
gives the runs by status (the same figures a complete scrape gives) and
``wattwise_scrape_complete 0``; the collection goes on, and a later scrape is complete.

The index is held back by a gate (an event its update waits on), never by a clock, so no
assertion here depends on how fast the machine is."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import CollectorRegistry, generate_latest

from wattwise.records.store import Store
from wattwise.server import metrics
from wattwise.server._sql import Reads
from wattwise.server.metrics import StoreCollector
from wattwise.server.runs_index import RunsIndex

#: Families a scrape may not give in part: the totals over runs and the per-run series.
WHOLE_OR_NOT = ("wattwise_energy_joules", "wattwise_emissions_grams", "wattwise_run_")
#: A wait no collection of these few runs reaches, but one held back by the gate.
LONG_S = 120.0


@pytest.fixture
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The fixture runs (two finished, one failed, one lost), a run recording now, and
    one stored as ``lost`` by another tool."""
    monkeypatch.delenv("WATTWISE_ZONE", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    from tests.server._runs import fixture_db, lost_with_samples, running_run

    path = tmp_path / "runs.db"
    fixture_db(path)
    with Store(path) as store:
        running_run(store)
        stored_lost = lost_with_samples(store)
    with sqlite3.connect(path) as con:
        con.execute("UPDATE runs SET status = 'lost' WHERE id = ?", (stored_lost,))
    con.close()
    return path


@pytest.fixture
def gate(monkeypatch: pytest.MonkeyPatch) -> Iterator[threading.Event]:
    """Every update of a runs index waits until the gate is opened."""
    opened = threading.Event()
    update = RunsIndex.update

    def held(self: RunsIndex) -> Any:
        opened.wait(LONG_S)
        return update(self)

    monkeypatch.setattr(RunsIndex, "update", held)
    yield opened
    opened.set()  # a collection still waiting ends


@pytest.fixture
def priced(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The ids of every run whose share of the totals is computed (``metrics._shares``)."""
    got: list[int] = []
    real = metrics._shares

    def counted(store: Any, reads: Any, ids: list[int], *a: Any) -> Any:
        got.extend(ids)
        return real(store, reads, ids, *a)

    monkeypatch.setattr(metrics, "_shares", counted)
    return got


def _scrape(collector: StoreCollector) -> str:
    registry = CollectorRegistry()
    registry.register(collector)
    return generate_latest(registry).decode()


def _lines(text: str, prefix: str) -> list[str]:
    return [x for x in text.splitlines() if x.startswith(prefix)]


def test_a_scrape_past_its_wait_leaves_the_totals_out_and_a_later_one_gives_them(
        db: Path, gate: threading.Event, priced: list[int]) -> None:
    reads = Reads(db)
    try:
        collector = StoreCollector(Store(db, readonly=True), reads=lambda: reads, wait_s=0.05)
        first = _scrape(collector)
        assert "wattwise_scrape_complete 0.0" in first
        help_line = _lines(first, "# HELP wattwise_scrape_complete ")[0]
        assert "not given in part" in help_line and len(help_line) < 400
        for family in WHOLE_OR_NOT:  # left out, not given as zeros or in part
            assert not _lines(first, family) and f"# HELP {family}" not in first
        runs = _lines(first, "wattwise_runs{")
        assert runs == ['wattwise_runs{status="running"} 1.0',
                        'wattwise_runs{status="lost"} 2.0',
                        'wattwise_runs{status="finished"} 2.0',
                        'wattwise_runs{status="failed"} 1.0',
                        'wattwise_runs{status="interrupted"} 0.0']
        assert priced == []  # the first collection still waits for the index
        gate.set()
        collector.wait_s = LONG_S
        second = _scrape(collector)
        assert "wattwise_scrape_complete 1.0" in second
        assert _lines(second, "wattwise_runs{") == runs  # the same figures
        assert _lines(second, 'wattwise_energy_joules_total{kind="mixed"}')
        assert _lines(second, "wattwise_emissions_grams_total{")
        assert _lines(second, "wattwise_run_running{")
        # the first scrape's collection went on and priced the lost runs; the second's
        # found them kept: none was priced twice
        assert priced and len(priced) == len(set(priced))
    finally:
        reads.close()


def test_a_complete_scrape_is_the_one_that_waits_without_bound_plus_the_gauge(
        db: Path) -> None:
    reads = Reads(db)
    try:
        unbounded = _scrape(StoreCollector(Store(db, readonly=True), reads=lambda: reads,
                                           wait_s=None))
        bounded = _scrape(StoreCollector(Store(db, readonly=True), reads=lambda: reads,
                                         wait_s=LONG_S))
    finally:
        reads.close()
    assert "wattwise_scrape_complete" not in unbounded
    gauge = bounded.index("# HELP wattwise_scrape_complete ")
    assert bounded[:gauge] == unbounded
    assert bounded[gauge:].splitlines()[1:] == ["# TYPE wattwise_scrape_complete gauge",
                                                 "wattwise_scrape_complete 1.0"]


def test_two_scrapes_at_once_price_each_lost_run_once(
        db: Path, gate: threading.Event, priced: list[int]) -> None:
    reads = Reads(db)
    try:
        collector = StoreCollector(Store(db, readonly=True), reads=lambda: reads,
                                   wait_s=LONG_S)
        texts: list[str] = []
        scrapes = [threading.Thread(target=lambda: texts.append(_scrape(collector)))
                   for _ in range(2)]
        for t in scrapes:
            t.start()
        gate.set()
        for t in scrapes:
            t.join(LONG_S)
    finally:
        reads.close()
    assert len(texts) == 2 and all("wattwise_scrape_complete 1.0" in t for t in texts)
    assert priced and len(priced) == len(set(priced))
    first, second = (_lines(t, "wattwise_energy_joules_total{") for t in texts)
    assert first and first == second


def test_the_dashboard_scrape_waits_as_asked_then_is_complete(
        db: Path, gate: threading.Event) -> None:
    from fastapi.testclient import TestClient

    from wattwise.server.app import create_app

    with TestClient(create_app(db, metrics_wait_s=0.5), base_url="http://127.0.0.1") as c:
        first = c.get("/metrics")
        gate.set()  # the index is built, by the start-up thread or the first collection
        for _ in range(100):  # each scrape waits for the one before it, then its own
            later = c.get("/metrics").text
            if "wattwise_scrape_complete 1.0" in later:
                break
    assert first.status_code == 200 and "wattwise_scrape_complete 0.0" in first.text
    assert not _lines(first.text, "wattwise_energy_joules_total")
    assert "wattwise_scrape_complete 1.0" in later
    assert _lines(later, "wattwise_energy_joules_total")
    assert _lines(later, "wattwise_runs{") == _lines(first.text, "wattwise_runs{")


@pytest.mark.parametrize("wait", [0, -1.0, float("nan"), float("inf"), True, "5"])
def test_a_wait_that_is_no_bound_is_refused(tmp_path: Path, wait: Any) -> None:
    from wattwise.errors import BadInput

    with pytest.raises(BadInput, match="metrics wait"):
        StoreCollector(Store(tmp_path / "r.db"), wait_s=wait)


def test_the_runs_by_status_are_counted_as_the_index_counts_them(db: Path) -> None:
    from wattwise.server.metrics_wait import stored_counts

    with sqlite3.connect(db) as con:  # statuses another tool may store
        con.execute("UPDATE runs SET status = 'Finished' WHERE id = 1")
        con.execute("UPDATE runs SET status = CAST('running' AS BLOB) WHERE id = 2")
    con.close()
    reads = Reads(db)
    try:
        counts, running = stored_counts(reads.rows)
        assert counts == reads.status_counts()
        assert sorted(running) == sorted(reads.running_ids(10**6))
        assert counts["Finished"] == 1 and counts["b'running'"] == 1
    finally:
        reads.close()
