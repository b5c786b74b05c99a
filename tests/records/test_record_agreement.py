"""A stored total must agree with the rest of its own record, and samples must be
plausible together: a total that contradicts its emissions block, stored emissions that
contradict their own facility energy and intensity, a sample far outside its own range,
and samples that sum past what one run may hold are damaged records, said so in one
note and repriced (or left out) the same way in every output."""

from __future__ import annotations

import dataclasses
import json
import sqlite3
import time
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

import wattwise
from tests.fixtures.damaged import copy_with
from tests.fixtures.fake_sensors import ConstantPowerSensor
from tests.fixtures.hourly_trace import write_hourly_trace
from wattwise.carbon.accounting import intervals_from_samples, usable_energy
from wattwise.carbon.sample_energy import partial_energy, sample_sums, stored_sample_sums
from wattwise.cli import _register_all, app
from wattwise.records.store import Store
from wattwise.records.stored_energy import (
    summary_emissions_fault,
    summary_energy_fault,
    unusable_notes,
)
from wattwise.server.runs_index import ENTRY_COLUMNS, entry_of

CASES: dict[str, dict[str, Any]] = {
    "measured, a domain not in totals": dict(
        sensors=lambda: [ConstantPowerSensor({"package": 40.0, "psys": 55.0}, name="m",
                                             in_total={"psys": False})],
        carbon=dict(zone="DE", pue=1.2)),
    "estimated and measured": dict(
        sensors=lambda: [ConstantPowerSensor({"package": 40.0}, name="m"),
                         ConstantPowerSensor({"gpu0": 80.0}, kind="estimated", spread=0.25,
                                             name="e", component="gpu")],
        carbon=dict(zone="FR")),
    "market-based": dict(
        sensors=lambda: [ConstantPowerSensor({"gpu0": 80.0}, kind="estimated", spread=0.25,
                                             name="e", component="gpu")],
        carbon=dict(zone="US-CAMX", pue=1.5),
        market=dict(renewable_share=0.4, contract_g_per_kwh=120.0)),
    "a trace whose intensity changes during the run": dict(
        sensors=lambda: [ConstantPowerSensor({"package": 40.0}, name="m")],
        carbon=dict(zone="DE", pue=1.1), trace=True),
}


def _recorded(tmp: Path, case: str) -> tuple[Path, int]:
    db = tmp / "runs.db"
    spec = CASES[case]
    carbon = dict(spec["carbon"])
    if spec.get("trace"):  # steep, so each sample is priced at another intensity
        carbon["intensity_trace"] = write_hourly_trace(tmp / "trace.csv", time.time() - 1800,
                                                       [100.0, 1900.0])
    run = wattwise.track("agree", db=db, sensors=spec["sensors"](), interval_s=0.02, **carbon)
    if spec.get("market"):  # as ``wattwise run --renewable-share`` sets them
        assert run.carbon_options is not None
        run.carbon_options = dataclasses.replace(run.carbon_options, **spec["market"])
    with run:
        time.sleep(0.12)
    assert run.flush()
    return db, int(run.run_id)


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, int]]:
    _register_all()
    return {case: _recorded(tmp_path_factory.mktemp(f"c{i}"), case)
            for i, case in enumerate(CASES)}


@pytest.mark.parametrize("case", list(CASES))
def test_real_records_agree_with_themselves(recorded: Any, case: str) -> None:
    """Every record wattwise writes passes the checks with room to spare: its total is its
    emissions block's energy, its grams its facility energy x average intensity, to
    about 1e-15 (the checks allow 1e-6), and every sample lies inside its own range."""
    db, rid = recorded[case]
    store = Store(db)
    try:
        rec = store.get_run(rid)
        samples = store.samples(rid)
    finally:
        store.close()
    s, em = rec.summary, rec.summary["emissions"]
    assert summary_energy_fault(s) is None and summary_emissions_fault(s) is None
    assert abs(em["energy_kwh"] * 3.6e6 - s["energy_j"]) <= 1e-12 * s["energy_j"]
    grams = em["facility_energy_kwh"] * em["avg_intensity_g_per_kwh"]
    assert abs(grams - em["emissions_g"]) <= 1e-12 * em["emissions_g"]
    assert samples and all(usable_energy(x.energy_j, x.low_j, x.high_j) is not None
                           for x in samples)


def _cli(*args: str) -> str:
    r = CliRunner().invoke(app, list(args))
    assert r.exit_code == 0, (r.stdout, r.stderr)
    return r.stdout


def _entry(db: Path, rid: int) -> Any:
    with sqlite3.connect(db) as c:
        row = c.execute(f"SELECT {ENTRY_COLUMNS} FROM runs WHERE id = ?", (rid,)).fetchone()
    return entry_of(row)[1]


def test_a_total_that_contradicts_its_emissions_block_is_repriced_everywhere(
        recorded: Any, tmp_path: Path) -> None:
    """1e15 J (with a range of its own) in a record whose emissions block was priced from
    a few joules: one note, the samples' figure in every output, and the runs index
    judges it the same."""
    db, rid = recorded["measured, a domain not in totals"]
    bad = copy_with(db, tmp_path, "UPDATE runs SET summary_json = json_set(summary_json,"
                     " '$.energy_j', 1e15, '$.low_j', 1e15, '$.high_j', 1e15)")
    store = Store(bad)
    try:
        summary = store.get_run(rid).summary
    finally:
        store.close()
    kwh = summary["emissions"]["energy_kwh"]
    why = summary_energy_fault(summary)
    assert why == (f"1e+15 J disagrees with its own emissions block ({kwh:.3g} kWh,"
                   f" {kwh * 3.6e6:.6g} J)")
    note = f"the stored energy is not usable: {why}: a damaged record"
    assert unusable_notes(summary) == [note]  # one note: the emissions add none
    report = json.loads(_cli("report", str(rid), "--json", "--db", str(bad)))
    assert report["energy_note"] == note
    assert report["energy_j"] < 1e3  # the samples' figure, not 1e15
    shown = json.loads(_cli("show", str(rid), "--json", "--db", str(bad)))
    assert note in shown["notes"]
    listed = json.loads(_cli("runs", "--json", "--db", str(bad)))
    (row,) = [r for r in (listed if isinstance(listed, list) else listed["runs"])
              if r["id"] == rid]
    assert note in json.dumps(row)
    assert "1e+15 J disagrees with its own" in " ".join(
        _cli("show", str(rid), "--db", str(bad)).split())
    entry = _entry(bad, rid)
    assert not entry.energy_usable and not entry.emissions_usable
    assert entry_of_good(db, rid)


def entry_of_good(db: Path, rid: int) -> bool:
    entry = _entry(db, rid)
    return entry.energy_usable and entry.emissions_usable


def test_emissions_that_contradict_their_own_block_are_not_usable(
        recorded: Any, tmp_path: Path) -> None:
    """Grams inside their own range but not the block's facility energy x intensity."""
    db, rid = recorded["market-based"]
    bad = copy_with(db, tmp_path, "UPDATE runs SET summary_json = json_set(summary_json,"
                     " '$.emissions.emissions_g', json_extract(summary_json,"
                     " '$.emissions.emissions_g') * 1.1)")
    store = Store(bad)
    try:
        summary = store.get_run(rid).summary
    finally:
        store.close()
    why = summary_emissions_fault(summary)
    assert why is not None and "disagrees with its own facility energy and intensity" in why
    assert summary_energy_fault(summary) is None
    assert _entry(bad, rid).energy_usable and not _entry(bad, rid).emissions_usable


def test_a_stored_negative_zero_is_never_said_minus_zero(recorded: Any, tmp_path: Path) -> None:
    """-0.0 J stored with a block priced from joules: repriced, its note says 0 J; and
    -0.0 with a block of 0 kWh (nothing to compare): shown as 0.0 J, never -0.0."""
    db, rid = recorded["estimated and measured"]
    bad = copy_with(db, tmp_path, "UPDATE runs SET summary_json = json_set(summary_json,"
                     " '$.energy_j', json('-0.0'), '$.low_j', json('-0.0'),"
                     " '$.high_j', json('-0.0'))")
    out = _cli("show", str(rid), "--db", str(bad)) + _cli("show", str(rid), "--json", "--db",
                                                          str(bad))
    assert "-0.0" not in out and "-0 J" not in out and "0 J disagrees" in out.replace("\n", " ")
    zero = copy_with(db, tmp_path, "UPDATE runs SET summary_json = json_set("
                      "summary_json, '$.energy_j', json('-0.0'), '$.low_j', json('-0.0'),"
                      " '$.high_j', json('-0.0'), '$.emissions.energy_kwh', json('-0.0'),"
                      " '$.emissions.emissions_g', json('-0.0'), '$.emissions.low_g',"
                      " json('-0.0'), '$.emissions.high_g', json('-0.0'),"
                      " '$.emissions.facility_energy_kwh', json('-0.0'))", "zero.db")
    out = "".join(_cli(*args, "--db", str(zero)) for args in (
        ("show", str(rid)), ("show", str(rid), "--json"), ("runs",), ("runs", "--json"),
        ("export", str(rid), "-f", "json"), ("export", str(rid), "-f", "csv")))
    from fastapi.testclient import TestClient

    from wattwise.server.app import create_app

    with TestClient(create_app(zero), base_url="http://127.0.0.1") as c:
        out += "".join(c.get(u).text for u in ("/api/runs", f"/api/runs/{rid}", "/metrics"))
    assert "-0.0" not in out and "-0 " not in out


class _S:
    def __init__(self, t: float, e: Any, lo: Any, hi: Any, domain: str = "cpu") -> None:
        self.t_unix_s, self.energy_j, self.low_j, self.high_j = t, e, lo, hi
        self.domain, self.power_w, self.gap = domain, 1.0, False


def test_a_sample_far_outside_its_own_range_is_a_damaged_value() -> None:
    """1e14 J with a range of 1-2 J is left out and named, in the words of the rule; a
    sample inside its range by rounding (1e-7) is kept."""
    assert usable_energy(1e14, 1, 2) is None
    assert usable_energy(2.0000001, 1, 2) == 2.0000001
    assert usable_energy(5.0, 7.0, 2.0) == 5.0  # no range (low above high): not judged
    notes: list[str] = []
    got = intervals_from_samples([_S(1.0, 1.5, 1, 2), _S(2.0, 1e14, 1, 2)], {"cpu"}, 0.0,
                                 notes=notes)
    assert [r[2] for r in got] == [1.5]
    assert notes == ["1 stored value(s) are not usable (a sample's energy must be a number"
                     " from 0 to 1e+15 J inside its own low-high range) and are left out of"
                     " the pricing: samples[1].energy_j (100000000000000.0)"]
    assert sample_sums([_S(1.0, 1.5, 1, 2), _S(2.0, 1e14, 1, 2)])["cpu"]["energy_j"] == 1.5


def _lost_db(tmp: Path, rows: list[tuple[float, float, float, float]]) -> tuple[Path, int]:
    """A run lost before its summary, with ``rows`` (time, energy, low, high) of domain
    ``cpu``."""
    db = tmp / "lost.db"
    with wattwise.track("lost", db=db, sensors=[ConstantPowerSensor({"cpu": 1.0})],
                        interval_s=0.02, zone="DE") as run:
        time.sleep(0.05)
    assert run.flush()
    rid = int(run.run_id)
    with sqlite3.connect(db) as c:
        c.execute("UPDATE runs SET summary_json = NULL, status = 'running', pid = NULL,"
                  " heartbeat_unix_s = 1 WHERE id = ?", (rid,))
        c.execute("DELETE FROM samples WHERE run_id = ?", (rid,))
        start = c.execute("SELECT started_unix_s FROM runs WHERE id = ?", (rid,)).fetchone()[0]
        c.executemany("INSERT INTO samples (run_id, t_unix_s, domain, energy_j, power_w,"
                      " low_j, high_j, gap) VALUES (?, ?, 'cpu', ?, 1.0, ?, ?, 0)",
                      [(rid, start + t, e, lo, hi) for t, e, lo, hi in rows])
    return db, rid


def test_sql_and_python_sums_leave_out_the_same_damaged_sample(tmp_path: Path) -> None:
    """The sums taken inside SQLite and in Python agree, the sample outside its own range
    named by both as the same value."""
    _register_all()
    db, rid = _lost_db(tmp_path, [(0.01, 1.5, 1.0, 2.0), (0.02, 1e14, 1.0, 2.0)])
    store = Store(db)
    try:
        sql = stored_sample_sums(store, rid)
        py = sample_sums(store.samples(rid))
        n, named = store.bad_sample_values(rid)
        first = store.bad_values_named(rid)
    finally:
        store.close()
    assert sql["cpu"]["energy_j"] == py["cpu"]["energy_j"] == 1.5
    assert sql["cpu"]["high_j"] == py["cpu"]["high_j"] == 2.0
    assert (n, named) == (1, [("samples[1].energy_j", 1e14)])
    assert first == [("samples[1].energy_j", 1e14)]


def test_samples_summing_past_the_bound_are_a_damaged_record(tmp_path: Path) -> None:
    """Two samples of 999999999999999.9 J, each usable, sum past 1e15 J: one note says the
    summed energy is implausibly large, and the figure is not counted."""
    _register_all()
    e = 999999999999999.9
    db, rid = _lost_db(tmp_path, [(0.01, e, e, e), (0.02, e, e, e)])
    store = Store(db)
    try:
        rec = store.get_run(rid)
        part = partial_energy(rec, stored_sample_sums(store, rid))
    finally:
        store.close()
    assert part is not None and not part.usable
    assert part.note.endswith(f"; the summed energy is not usable: implausibly large"
                              f" ({2 * e:g} J, more than 1e+15 J): a damaged record")
    shown = _cli("show", str(rid), "--db", str(db))
    assert "the summed energy is not usable: implausibly large" in " ".join(shown.split())


def test_the_codecarbon_export_names_skipped_samples_in_the_words_of_every_note(
        tmp_path: Path) -> None:
    """A sample of 1e308 J is a number, just not a usable one: the export's note says so
    in the words pricing uses, never "not finite numbers"."""
    from wattwise.records.export_codecarbon import export_codecarbon

    _register_all()
    db, rid = _lost_db(tmp_path, [(0.01, 1.5, 1.0, 2.0), (0.02, 1e308, 1e308, 1e308)])
    store = Store(db)
    try:
        for samples in (store.samples(rid), None):  # read one by one, and summed in SQLite
            notes: list[str] = []
            export_codecarbon(store.get_run(rid), samples, notes=notes, store=store)
            assert ("1 stored value(s) are not usable (a sample's energy must be a number"
                    " from 0 to 1e+15 J inside its own low-high range) and are left out of"
                    " the pricing:"
                    " samples[1].energy_j (1e+308)") in notes, notes
            assert not [n for n in notes if "not finite numbers" in n]
    finally:
        store.close()


def test_a_stored_negative_zero_power_is_never_said_minus_zero(
        recorded: Any, tmp_path: Path) -> None:
    """-0.0 in any number of the summary's top level or of a domain (its average power,
    its duration) is read as 0.0 by every output that shows the summary."""
    db, rid = recorded["estimated and measured"]
    zero = copy_with(db, tmp_path, "UPDATE runs SET summary_json = json_set("
                      "summary_json, '$.energy_j', json('-0.0'), '$.low_j', json('-0.0'),"
                      " '$.avg_power_w', json('-0.0'), '$.domains[0].avg_power_w',"
                      " json('-0.0'), '$.domains[0].energy_j', json('-0.0'),"
                      " '$.emissions.energy_kwh', json('-0.0'),"
                      " '$.emissions.emissions_g', json('-0.0'), '$.emissions.low_g',"
                      " json('-0.0'), '$.emissions.facility_energy_kwh', json('-0.0'))",
                      "zero.db")
    out = "".join(_cli(*args, "--db", str(zero)) for args in (
        ("show", str(rid)), ("show", str(rid), "--json"), ("runs", "--json"),
        ("export", str(rid), "-f", "json")))
    from fastapi.testclient import TestClient

    from wattwise.server.app import create_app

    with TestClient(create_app(zero), base_url="http://127.0.0.1") as c:
        out += c.get(f"/api/runs/{rid}").text
    import re

    # a minus zero said as a number ("-0.00 W", "-0.0,"), not a range's dash ("0-0.0003")
    assert '"avg_power_w"' in out and not re.search(r"(?<![\w.])-0(\.0+)?(?![\d.])", out)
