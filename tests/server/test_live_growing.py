"""A run still recording is priced from sums kept between requests and extended by the
samples stored since (``records.growing_sums``), so a refresh does not sum a million
samples again; every output still gives the samples stored up to the request. A lost
run priced from a trace is kept while the trace's bytes stay the same."""

from __future__ import annotations

import json
import os
import re
import sqlite3
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from wattwise.carbon import partial
from wattwise.records import growing_sums
from wattwise.records.sample_sums import SampleSums
from wattwise.records.store import SampleRow, Store
from wattwise.server._sql import Reads, RunsQuery
from wattwise.server.data import run_payload, runs_payload
from wattwise.server.metrics import StoreCollector

START = datetime(2026, 12, 1, tzinfo=timezone.utc).timestamp()
SENSORS = [{"name": "model", "domains": [
    {"name": "cpu:model", "kind": "estimated", "source": "model: TDP x utilisation",
     "in_total": True},
    {"name": "gpu:0", "kind": "measured", "source": "nvml: GPU 0", "in_total": True}]}]


def _samples(first: int, n: int) -> list[SampleRow]:
    """``n`` seconds of samples of both domains from second ``first``."""
    return [SampleRow(START + t, d, 2.0 + (t % 7) / 10, 20.0, 1.5, 2.6, False)
            for t in range(first, first + n) for d in ("cpu:model", "gpu:0")]


def _run(path: Path, *, pid: int | None, options: dict[str, Any]) -> int:
    with Store(path) as store:
        rid = store.create_run(name="long", started_unix_s=START, pid=pid, sensors=SENSORS,
                               host={"hostname": "lab", "carbon_options": options},
                               hardware={}, versions={})
        store.add_samples(rid, _samples(1, 300))
    return rid


def _options(**extra: Any) -> dict[str, Any]:
    return {"zone": "DE", "intensity_trace": None, "provider": None, "pue": None, **extra}


def _append(path: Path, rid: int, first: int, n: int) -> None:
    with Store(path) as store:  # the store's own writer, as a recording run writes
        store.add_samples(rid, _samples(first, n))


def _every_output(store: Store, reads: Reads, rid: int, db: Path) -> dict[str, Any]:
    """The running run's energy (and emissions, where given) in each output."""
    row = next(r for r in runs_payload(store, query=RunsQuery(), reads=reads)["runs"]
               if r["id"] == rid)
    run = run_payload(store, rid)["run"]
    series = {m.name: m for m in StoreCollector(store, reads=lambda: reads).collect()}
    metric = sum(s.value for s in series["wattwise_run_energy_joules"].samples
                 if s.labels["run_id"] == str(rid))
    shown = json.loads(CliRunner().invoke(
        _cli(), ["show", str(rid), "--json", "--db", str(db)]).stdout)
    return {"row": (row["energy_j"], row["emissions_g"]),
            "api": (run["energy_so_far"]["energy_j"], run["emissions_so_far"]["emissions_g"]),
            "metrics": metric,
            "show": (shown["energy_so_far"]["energy_j"],
                     shown["emissions_so_far"]["emissions_g"])}


def _cli() -> Any:
    from wattwise.cli import _register_all, app

    _register_all()
    return app


def test_a_running_run_agrees_everywhere_and_counts_samples_appended_since(
        tmp_path: Path) -> None:
    db = tmp_path / "runs.db"
    rid = _run(db, pid=os.getpid(), options=_options())  # this process: running
    reads = Reads(db)
    try:
        with Store(db, readonly=True) as store:
            assert store.get_run(rid).status == "running"
            before = _every_output(store, reads, rid, db)
            _append(db, rid, 301, 40)
            after = _every_output(store, reads, rid, db)
            with Store(db) as fresh:  # summed whole, from scratch
                whole = partial.partial_energy(fresh.get_run(rid), fresh.sample_sums(rid))
                priced = partial.stored_partial_emissions(fresh, fresh.get_run(rid), whole)
    finally:
        reads.close()
    assert whole is not None and priced is not None
    assert whole.samples == 2 * 340
    assert after["row"][0] > before["row"][0]  # the new samples are counted
    for got in (after["row"], after["api"], after["show"]):
        assert got[0] == pytest.approx(whole.energy_j, rel=1e-12)
        assert got[1] == pytest.approx(priced["emissions_g"], rel=1e-12)
    assert after["metrics"] == pytest.approx(whole.energy_j, rel=1e-12)
    # the dashboard's outputs read the same kept sums: the same figure to the last digit
    assert after["row"] == after["api"] and after["metrics"] == pytest.approx(
        after["row"][0], rel=1e-15)


def test_after_the_first_request_only_the_samples_stored_since_are_read(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db = tmp_path / "runs.db"
    rid = _run(db, pid=os.getpid(), options=_options())
    whole: list[str] = []  # what read the run's samples from its first
    for cls, name in ((SampleSums, "sample_sums"), (SampleSums, "cell_sums"),
                      (Reads, "energy_so_far")):
        real = getattr(cls, name)
        monkeypatch.setattr(cls, name, lambda self, *a, _r=real, _n=name, **k:
                            whole.append(_n) or _r(self, *a, **k))
    real_read = growing_sums.GrowingSums._read

    def read(self: Any, sql: str, params: Any = ()) -> Any:
        if re.search(r"(?<!\+)run_id = :run", sql):  # through the run's index: from the first
            whole.append(sql)
        return real_read(self, sql, params)

    monkeypatch.setattr(growing_sums.GrowingSums, "_read", read)
    reads = Reads(db)
    try:
        with Store(db, readonly=True) as store:
            first = run_payload(store, rid)["run"]["energy_so_far"]
            assert whole  # summed once
            whole.clear()
            for k in range(3):
                _append(db, rid, 301 + k, 1)
                row = next(r for r in runs_payload(store, query=RunsQuery(), reads=reads)
                           ["runs"] if r["id"] == rid)
                got = run_payload(store, rid)["run"]["energy_so_far"]
                assert got["samples"] == first["samples"] + 2 * (k + 1)  # counted at once
                assert row["energy_j"] == got["energy_j"]
                list(StoreCollector(store, reads=lambda: reads).collect())
            assert whole == []
    finally:
        reads.close()


def test_the_new_samples_are_read_by_rowid_not_through_the_runs_index(tmp_path: Path) -> None:
    db = tmp_path / "runs.db"
    _run(db, pid=None, options=_options())
    with sqlite3.connect(db) as conn:
        plan = conn.execute("EXPLAIN QUERY PLAN " + growing_sums._SUMS.format(
            where=growing_sums._new(10, 20)), {"run": 1}).fetchall()
        whole = conn.execute("EXPLAIN QUERY PLAN " + growing_sums._SUMS.format(
            where=growing_sums._all(20)), {"run": 1}).fetchall()
    assert "INTEGER PRIMARY KEY (rowid>? AND rowid<?)" in plan[0][3]
    assert "samples_run_t" in whole[0][3]


def test_a_kept_run_whose_last_row_changed_is_summed_again(tmp_path: Path) -> None:
    db = tmp_path / "runs.db"
    rid = _run(db, pid=os.getpid(), options=_options())
    with Store(db, readonly=True) as store:
        first = run_payload(store, rid)["run"]["energy_so_far"]["energy_j"]
        with sqlite3.connect(db) as conn:  # another tool edits the newest sample
            conn.execute("UPDATE samples SET energy_j = energy_j + 100,"
                         " high_j = high_j + 100 WHERE rowid ="
                         " (SELECT max(rowid) FROM samples WHERE run_id = ?)", (rid,))
        got = run_payload(store, rid)["run"]["energy_so_far"]["energy_j"]
    assert got == pytest.approx(first + 100, rel=1e-12)


def _trace(path: Path, values: tuple[int, int]) -> Path:
    rows = [f"{datetime.fromtimestamp(START + 150 * k, timezone.utc):%Y-%m-%dT%H:%M:%SZ},"
            f"{values[k % 2]}" for k in range(4)]
    path.write_text("Time,Carbon Intensity\n" + "\n".join(rows) + "\n")
    return path


def test_a_lost_run_priced_on_a_trace_is_kept_until_the_trace_changes(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db = tmp_path / "runs.db"
    trace = _trace(tmp_path / "day.csv", (200, 400))
    rid = _run(db, pid=2**22 + 9, options=_options(intensity_trace=str(trace)))  # lost
    priced: list[int] = []
    real = partial.stored_partial_emissions
    monkeypatch.setattr(partial, "stored_partial_emissions",
                        lambda store, r, part: priced.append(r.id) or real(store, r, part))
    reads = Reads(db)

    def figures(store: Store) -> tuple[Any, Any]:
        row = next(r for r in runs_payload(store, query=RunsQuery(), reads=reads)["runs"]
                   if r["id"] == rid)
        api = run_payload(store, rid)["run"]["emissions_so_far"]["emissions_g"]
        return row["emissions_g"], api

    try:
        with Store(db, readonly=True) as store:
            assert store.get_run(rid).status == "lost"
            first = figures(store)
            assert priced == [rid, rid]  # the row, the API
            assert figures(store) == first
            assert priced == [rid, rid]  # kept: the trace is as it was
            _trace(trace, (100, 800))  # the same file, other intensities
            second = figures(store)
            assert len(priced) == 4
        with Store(db) as fresh:
            run = fresh.get_run(rid)
            whole = partial.partial_energy(run, fresh.sample_sums(rid))
            assert whole is not None
            expect = real(fresh, run, whole)
    finally:
        reads.close()
    assert expect is not None
    assert second[0] != pytest.approx(first[0], rel=1e-6)
    assert second[0] == second[1] == pytest.approx(expect["emissions_g"], rel=1e-12)


def test_a_plain_lost_runs_api_figures_are_priced_once(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db = tmp_path / "runs.db"
    rid = _run(db, pid=2**22 + 9, options=_options())
    priced: list[int] = []
    real = partial.stored_partial_emissions
    monkeypatch.setattr(partial, "stored_partial_emissions",
                        lambda store, r, part: priced.append(r.id) or real(store, r, part))
    with Store(db, readonly=True) as store:
        first = run_payload(store, rid)["run"]
        again = run_payload(store, rid)["run"]
    assert priced == [rid]
    assert first["emissions_so_far"] == again["emissions_so_far"]
    assert first["energy_so_far"] == again["energy_so_far"]


def test_a_sample_stored_late_with_an_earlier_time_is_priced_in_its_own_step(
        tmp_path: Path) -> None:
    db = tmp_path / "runs.db"
    trace = _trace(tmp_path / "day.csv", (200, 400))
    rid = _run(db, pid=os.getpid(), options=_options(intensity_trace=str(trace)))
    with Store(db, readonly=True) as store:
        first = run_payload(store, rid)["run"]["emissions_so_far"]["emissions_g"]
        with Store(db) as writer:  # a late flush: a sample of the first step, and a new one
            writer.add_samples(rid, [SampleRow(START + 10.5, "gpu:0", 50.0, 20.0, 40.0, 60.0),
                                     SampleRow(START + 301, "gpu:0", 50.0, 20.0, 40.0, 60.0)])
        got = run_payload(store, rid)["run"]
    with Store(db) as fresh:
        run = fresh.get_run(rid)
        whole = partial.partial_energy(run, fresh.sample_sums(rid))
        assert whole is not None
        expect = partial.stored_partial_emissions(fresh, run, whole)
    assert expect is not None
    assert got["energy_so_far"]["energy_j"] == pytest.approx(whole.energy_j, rel=1e-12)
    assert got["emissions_so_far"]["emissions_g"] == pytest.approx(expect["emissions_g"],
                                                                   rel=1e-12)
    # 50 J in the trace's first step and 50 J in its third, both at 200 g/kWh
    assert got["emissions_so_far"]["emissions_g"] == pytest.approx(
        first + 100 / 3.6e6 * 200, rel=1e-9)
