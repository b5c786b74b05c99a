"""A run page asks its run and its timeline together: a run without a summary has its
samples summed once for both, not once each (the sums its figures and its timeline's
pricing come from, the pricing's cells, and the buckets its hole note and its timeline
draw from), whether the two are asked one after the other or at once; and its list row's
passes serve the page opened from the list."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.fixtures.hourly_trace import write_hourly_trace
from tests.server.test_lost_run_emissions import START
from tests.server.test_lost_run_emissions import _lost_run as lost_run
from wattwise.records.store import Store
from wattwise.server._sql import Reads, RunsQuery
from wattwise.server.data import run_payload, runs_payload, timeline_payload
from wattwise.server.timeline import BUCKETS_SQL

pytestmark = pytest.mark.usefixtures("no_ambient_zone")


def _lost_run(folder: Path) -> tuple[Path, int]:
    """A lost run priced in DE on an hourly trace: samples one a minute for an hour, none
    for half an hour (a hole its page draws and notes), then half an hour more."""
    trace = write_hourly_trace(folder / "de.csv", START, [200.0, 400.0, 400.0])
    db = folder / "runs.db"
    return db, lost_run(db, trace, [*range(1, 61), *range(91, 121)])


def _passes(monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    """Counts of the passes over a run's samples, by kind, through either reader."""
    seen: Counter[str] = Counter()
    lock = threading.Lock()

    def kind(sql: str) -> str | None:
        if sql == BUCKETS_SQL:
            return "buckets"
        if "total(" in sql and "GROUP BY domain, k" in sql:
            return "cells"
        if "total(" in sql and sql.rstrip().endswith("GROUP BY domain"):
            return "sums"
        return None

    def counted(real: Callable[..., Any]) -> Callable[..., Any]:
        def read(self: Any, sql: str, params: Any = ()) -> Any:
            if (k := kind(sql)) is not None:
                with lock:
                    seen[k] += 1
            return real(self, sql, params)
        return read

    monkeypatch.setattr(Store, "_read", counted(Store._read))
    monkeypatch.setattr(Reads, "rows", counted(Reads.rows))
    return seen


def _page(db: Path, rid: int, together: bool) -> tuple[dict[str, Any], dict[str, Any]]:
    got: dict[str, Any] = {}
    with Store(db, readonly=True) as store:
        reads = Reads(db)
        try:
            asks: dict[str, Callable[[], Any]] = {
                "run": lambda: run_payload(store, rid, reads=reads),
                "timeline": lambda: timeline_payload(store, rid, reads=reads)}
            if together:
                threads = [threading.Thread(target=lambda k=k: got.update({k: asks[k]()}))
                           for k in asks]
                for t in threads:
                    t.start()
                for t in threads:
                    t.join(60)
            else:
                got.update({k: f() for k, f in asks.items()})
        finally:
            reads.close()
    return got["run"], got["timeline"]


@pytest.mark.parametrize("together", [False, True], ids=["one-after-the-other", "at-once"])
def test_a_lost_runs_page_sums_its_samples_once(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, together: bool) -> None:
    db, rid = _lost_run(tmp_path)
    passes = _passes(monkeypatch)
    run, timeline = _page(db, rid, together)
    assert run["run"]["status"] == "lost"
    assert any("hole" in n for n in run["notes"]), run["notes"]  # its buckets were summed
    grams = run["run"]["emissions_so_far"]["emissions_g"]
    assert timeline["emissions"]["cumulative_g"][-1] == pytest.approx(grams, rel=1e-9)
    assert passes == {"sums": 1, "cells": 1, "buckets": 1}


def test_a_page_opened_from_the_list_reads_no_sample_again(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db, rid = _lost_run(tmp_path)
    passes = _passes(monkeypatch)
    with Store(db, readonly=True) as store:
        reads = Reads(db)
        try:
            listed = runs_payload(store, query=RunsQuery(), reads=reads)["runs"]
            assert [r["id"] for r in listed] == [rid] and listed[0]["status"] == "lost"
            before = Counter(passes)
            run = run_payload(store, rid, reads=reads)
            timeline = timeline_payload(store, rid, reads=reads)
        finally:
            reads.close()
    assert before == {"sums": 1, "cells": 1, "buckets": 1}
    assert passes == before  # the page and its timeline read what the row read
    assert listed[0]["emissions_g"] == pytest.approx(
        run["run"]["emissions_so_far"]["emissions_g"], rel=1e-12)
    assert timeline["emissions"]["cumulative_g"][-1] == pytest.approx(
        listed[0]["emissions_g"], rel=1e-9)
    assert [n for n in run["notes"] if "hole" in n] == \
        [n for n in listed[0]["notes"] if "hole" in n]
