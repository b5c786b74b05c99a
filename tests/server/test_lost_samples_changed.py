"""A lost run's figures are kept between requests while its samples stay as they were;
when another tool deletes or edits some of its older samples, the dashboard's runs list,
``/api/runs/ID`` and ``/metrics`` (its series and the totals) give the figure ``show``
gives within ``FULL_RESUM_S`` (read on an injected clock); a file nobody wrote prices
nothing again."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from tests.server.test_live_growing import _cli, _options, _run
from wattwise.records import growing_sums
from wattwise.records.store import Store
from wattwise.server import _live, metrics
from wattwise.server._sql import Reads, RunsQuery
from wattwise.server.data import run_payload, runs_payload
from wattwise.server.metrics import StoreCollector

DEAD = 2**22 + 9  # above Linux's largest pid: no such process


def _figures(store: Store, reads: Reads, rid: int, db: Path, collector: StoreCollector
             ) -> dict[str, Any]:
    """The lost run's energy and emissions in each output, and the metrics' total energy
    as this long-lived reader gives it."""
    shown = json.loads(CliRunner().invoke(
        _cli(), ["show", str(rid), "--json", "--db", str(db)]).stdout)
    return {**_dashboard(store, reads, rid, collector),
            "show": (shown["energy_so_far"]["energy_j"],
                     shown["emissions_so_far"]["emissions_g"])}


def _dashboard(store: Store, reads: Reads, rid: int, collector: StoreCollector
               ) -> dict[str, Any]:
    """The lost run's figures as one dashboard gives them (one reader, one collector
    kept between requests)."""
    row = next(r for r in runs_payload(store, query=RunsQuery(status="lost"), reads=reads)
               ["runs"] if r["id"] == rid)
    run = run_payload(store, rid, reads=reads)["run"]  # as the dashboard asks
    series = {m.name: m for m in collector.collect()}
    metric = sum(s.value for s in series["wattwise_run_energy_joules"].samples
                 if s.labels["run_id"] == str(rid))
    return {"row": (row["energy_j"], row["emissions_g"]),
            "api": (run["energy_so_far"]["energy_j"], run["emissions_so_far"]["emissions_g"]),
            "metrics": metric, "total": _total(series)}


def _total(series: dict[str, Any]) -> float:
    return sum(s.value for s in series["wattwise_energy_joules"].samples
               if s.name.endswith("_total"))


def _fresh_total(store: Store, db: Path) -> float:
    fresh = Reads(db)
    try:
        return _total({m.name: m for m in StoreCollector(store, reads=lambda: fresh).collect()})
    finally:
        fresh.close()


def _agree(got: dict[str, Any], store: Store, db: Path) -> None:
    energy, grams = got["show"]
    assert got["row"] == pytest.approx((energy, grams), rel=1e-9)
    assert got["api"] == pytest.approx((energy, grams), rel=1e-9)
    assert got["metrics"] == pytest.approx(energy, rel=1e-9)
    assert got["total"] == pytest.approx(_fresh_total(store, db), rel=1e-9)


def test_a_lost_run_whose_older_samples_another_tool_changed_is_priced_again(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    now = [1000.0]
    monkeypatch.setattr(_live, "clock", lambda: now[0])
    db = tmp_path / "runs.db"
    rid = _run(db, pid=DEAD, options=_options())
    reads = Reads(db)
    try:
        with Store(db, readonly=True) as store:
            collector = StoreCollector(store, reads=lambda: reads)
            assert store.get_run(rid).status == "lost"
            first = _figures(store, reads, rid, db, collector)
            _agree(first, store, db)
            with sqlite3.connect(db) as conn:  # another tool deletes the oldest 100 rows
                conn.execute("DELETE FROM samples WHERE rowid IN (SELECT rowid FROM samples"
                             " WHERE run_id = ? ORDER BY rowid LIMIT 100)", (rid,))
            now[0] += growing_sums.FULL_RESUM_S  # within FULL_RESUM_S
            deleted = _figures(store, reads, rid, db, collector)
            assert deleted["show"][0] < first["show"][0]
            _agree(deleted, store, db)
            with sqlite3.connect(db) as conn:  # ... and edits the oldest left in place
                conn.execute("UPDATE samples SET energy_j = 5000, low_j = 5000, high_j = 5000"
                             " WHERE rowid = (SELECT"
                             " min(rowid) FROM samples WHERE run_id = ?)", (rid,))
            now[0] += growing_sums.FULL_RESUM_S  # within FULL_RESUM_S
            edited = _figures(store, reads, rid, db, collector)
            assert edited["show"][0] > deleted["show"][0] + 4000
            _agree(edited, store, db)
    finally:
        reads.close()


def test_a_lost_run_left_as_it_was_is_not_priced_again_within_full_resum_s(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from wattwise.carbon import partial

    now = [20 * growing_sums.FULL_RESUM_S]  # the start of a period
    monkeypatch.setattr(_live, "clock", lambda: now[0])
    db = tmp_path / "runs.db"
    rid = _run(db, pid=DEAD, options=_options())
    priced: list[int] = []
    real = partial.stored_partial_emissions
    monkeypatch.setattr(partial, "stored_partial_emissions",
                        lambda store, r, part: priced.append(r.id) or real(store, r, part))
    reads = Reads(db)
    try:
        with Store(db, readonly=True) as store:
            collector = StoreCollector(store, reads=lambda: reads)
            first = _dashboard(store, reads, rid, collector)
            count = len(priced)
            now[0] += growing_sums.FULL_RESUM_S / 2
            assert _dashboard(store, reads, rid, collector) == first
            assert len(priced) == count  # kept: nothing changed
            checked: list[Any] = []
            monkeypatch.setattr(metrics, "changed_sums", lambda *a: checked.append(a) or [])
            now[0] += growing_sums.FULL_RESUM_S  # nothing written meanwhile: not summed
            assert _dashboard(store, reads, rid, collector) == first
            assert checked == [] and len(priced) == count
            with sqlite3.connect(db) as conn:  # a write elsewhere in the file
                conn.execute("UPDATE runs SET name = name WHERE id = ?", (rid,))
            now[0] += growing_sums.FULL_RESUM_S
            assert _dashboard(store, reads, rid, collector) == first
            assert len(checked) == 1  # its sums compared again
    finally:
        reads.close()


def test_samples_another_tool_adds_inside_a_lost_run_s_span_are_seen_at_once(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Rows added anywhere in its span (``server.sample_writes``) price it again at the
    next request, in the list as on its own page: the list once kept its old figure
    until ``FULL_RESUM_S`` passed while its page gave the new one."""
    monkeypatch.setattr(_live, "clock", lambda: 1000.0)  # no full pass falls due
    db = tmp_path / "runs.db"
    rid = _run(db, pid=DEAD, options=_options())
    reads = Reads(db)
    try:
        with Store(db, readonly=True) as store:
            collector = StoreCollector(store, reads=lambda: reads)
            first = _figures(store, reads, rid, db, collector)
            _agree(first, store, db)
            with sqlite3.connect(db) as conn:  # copies of three of its middle samples
                conn.execute("INSERT INTO samples SELECT * FROM samples WHERE run_id = ?"
                             " ORDER BY rowid LIMIT 3 OFFSET 20", (rid,))
            added = _figures(store, reads, rid, db, collector)
            assert added["show"][0] > first["show"][0]
            _agree(added, store, db)
    finally:
        reads.close()


def test_samples_another_tool_moved_in_time_in_place_are_priced_again(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Three samples of one energy moved in place between the trace's hours (200 and 400
    g/kWh), the sum of their times kept: every energy sum and rowid as it was. Within
    ``FULL_RESUM_S`` the list, the run's API and ``/metrics`` (its series and total)
    give the grams ``show`` gives (``/metrics`` kept the old grams: its marks were sums)."""
    from tests.fixtures.hourly_trace import write_hourly_trace
    from tests.server.test_lost_run_emissions import START
    from tests.server.test_lost_run_emissions import _lost_run as lost_run

    now = [1000.0]
    monkeypatch.setattr(_live, "clock", lambda: now[0])
    db = tmp_path / "runs.db"
    rid = lost_run(db, write_hourly_trace(tmp_path / "de.csv", START, [200.0, 400.0, 400.0]))
    reads = Reads(db)

    def grams(store: Store, collector: StoreCollector) -> dict[str, float]:
        shown = json.loads(CliRunner().invoke(
            _cli(), ["show", str(rid), "--json", "--db", str(db)]).stdout)
        row = next(r for r in runs_payload(store, query=RunsQuery(), reads=reads)["runs"]
                   if r["id"] == rid)
        series = {m.name: m for m in collector.collect()}
        return {"show": shown["emissions_so_far"]["emissions_g"], "row": row["emissions_g"],
                "api": run_payload(store, rid, reads=reads)["run"]["emissions_so_far"][
                    "emissions_g"],
                "metrics": sum(s.value for s in series["wattwise_run_emissions_grams"].samples
                               if s.labels["run_id"] == str(rid)),
                "total": sum(s.value for s in series["wattwise_emissions_grams"].samples
                             if s.name.endswith("_total"))}

    try:
        with Store(db, readonly=True) as store:
            collector = StoreCollector(store, reads=lambda: reads)
            first = grams(store, collector)
            assert len(set(first.values())) == 1, first
            with sqlite3.connect(db) as conn:  # minutes 10 and 11 to 100 and 101 (into
                # the 400 g/kWh hour), minute 100 back to 20: the times' sum kept
                for old, new in ((100, 20), (10, 100), (11, 101)):
                    conn.execute("UPDATE samples SET t_unix_s = ? WHERE rowid = (SELECT rowid"
                                 " FROM samples WHERE run_id = ? AND t_unix_s = ?)",
                                 (START + 60 * new, rid, START + 60 * old))
            conn.close()
            now[0] += growing_sums.FULL_RESUM_S
            moved = grams(store, collector)
    finally:
        reads.close()
    assert moved["show"] == pytest.approx(first["show"] + 1800 / 3.6e6 * 1.2 * 200, rel=1e-9)
    for key, value in moved.items():
        assert value == pytest.approx(moved["show"], rel=1e-9), (key, moved)


def test_a_hole_another_tool_made_in_place_is_noted_as_show_notes_it(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Eleven samples of a lost run moved in place into the minutes between others: a
    12-minute hole, the run's span, count, rowids and energy as they were. Within
    ``FULL_RESUM_S`` the run's page notes it as ``show --json`` does, opened from the
    list or not (its notes were kept by its span and count: none said for minutes)."""
    from tests.fixtures.hourly_trace import write_hourly_trace
    from tests.server.test_lost_run_emissions import START
    from tests.server.test_lost_run_emissions import _lost_run as lost_run

    now = [1000.0]
    monkeypatch.setattr(_live, "clock", lambda: now[0])
    db = tmp_path / "runs.db"
    rid = lost_run(db, write_hourly_trace(tmp_path / "de.csv", START, [200.0, 400.0, 400.0]))
    reads = Reads(db)

    def holes(notes: list[str]) -> list[str]:
        return [n for n in notes if "hole" in n]

    try:
        with Store(db, readonly=True) as store:
            runs_payload(store, query=RunsQuery(), reads=reads)
            assert holes(run_payload(store, rid, reads=reads)["notes"]) == []
            with sqlite3.connect(db) as conn:  # minutes 60-70 to 25.5-35.5
                conn.execute("UPDATE samples SET t_unix_s = t_unix_s - 34.5 * 60 WHERE"
                             " run_id = ? AND t_unix_s BETWEEN ? AND ?",
                             (rid, START + 60 * 60, START + 60 * 70))
            conn.close()
            now[0] += growing_sums.FULL_RESUM_S
            runs_payload(store, query=RunsQuery(), reads=reads)
            page = holes(run_payload(store, rid, reads=reads)["notes"])
    finally:
        reads.close()
    shown = holes(json.loads(CliRunner().invoke(
        _cli(), ["show", str(rid), "--json", "--db", str(db)]).stdout)["notes"])
    assert len(shown) == 1 and "12 min" in shown[0], shown
    assert page == shown
