"""An export of a run whose stored total energy is not usable (text, negative, implausibly
large: ``records.stored_energy``) says so, and says what it wrote instead: the samples'
sums, or an empty cell where there are none, never a 0.0 the run does not have."""

from __future__ import annotations

import csv
import io
import json
import sqlite3
import time
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

import wattwise
from tests.fixtures.damaged import stored_figures
from tests.fixtures.fake_sensors import ConstantPowerSensor
from wattwise.cli import _register_all, app
from wattwise.records.export_codecarbon import export_codecarbon
from wattwise.records.export_csv import export_csv
from wattwise.records.store import Store

_register_all()
runner = CliRunner()

_J_PER_KWH = 3.6e6
_ENERGY_CELLS = ("energy_consumed", "cpu_energy", "cpu_power")


pytestmark = pytest.mark.usefixtures("no_ambient_zone")


def _record(db: Path) -> int:
    sensor = ConstantPowerSensor({"cpu:package": 40.0})
    with wattwise.track("job", db=db, sensors=[sensor], interval_s=0.05, zone="DE") as run:
        time.sleep(0.3)
    assert run.flush() and run.run_id is not None
    return int(run.run_id)


def _damage(db: Path, rid: int, *, samples: bool = True, **figures: Any) -> None:
    """Write ``figures`` into the stored summary (and drop the samples), as a damaged
    file leaves them."""
    stored_figures(db, rid, **figures)
    if not samples:
        with sqlite3.connect(db) as conn:
            conn.execute("DELETE FROM samples WHERE run_id = ?", (rid,))


def _codecarbon(db: Path, rid: int) -> tuple[dict[str, str], list[str]]:
    store = Store(db)
    try:
        rec = store.get_run(rid)
        notes: list[str] = []
        (row,) = csv.DictReader(io.StringIO(export_codecarbon(rec, store.samples(rid),
                                                              notes=notes)))
    finally:
        store.close()
    return row, notes


def _samples_j(db: Path, rid: int) -> float:
    with sqlite3.connect(db) as conn:
        return float(conn.execute("SELECT total(energy_j) FROM samples WHERE run_id = ?"
                                  " AND gap = 0", (rid,)).fetchone()[0])


@pytest.mark.parametrize(("stored", "why"), [
    ("abc", "not a number (stored as 'abc')"),
    (-5.0, "negative (-5 J)"),
    (1e308, "implausibly large (1e+308 J, more than 1e+15 J)"),
])
def test_codecarbon_writes_the_samples_sums_and_says_so(
        tmp_path: Path, stored: Any, why: str) -> None:
    db = tmp_path / "r.db"
    rid = _record(db)
    _damage(db, rid, energy_j=stored)
    row, notes = _codecarbon(db, rid)
    written_j = float(row["energy_consumed"]) * _J_PER_KWH
    assert 0 < written_j <= _samples_j(db, rid) * (1 + 1e-9)  # the samples in its window
    said = [n for n in notes if n.startswith(f"the stored energy is not usable: {why}")]
    assert said and (f"its samples' energy, clipped to the run as `wattwise report` gives it "
                     f"({written_j:.6g} J), instead") in said[0], notes
    # the figure every other output gives (it was every sample's, unclipped)
    got = CliRunner().invoke(app, ["show", str(rid), "--db", str(db), "--json"])
    assert written_j == pytest.approx(json.loads(got.stdout)["figures"]["energy_j"], rel=1e-12)


def test_codecarbon_of_an_unusable_total_without_samples_is_empty_not_zero(
        tmp_path: Path) -> None:
    db = tmp_path / "r.db"
    rid = _record(db)
    _damage(db, rid, samples=False, energy_j=1e308)
    row, notes = _codecarbon(db, rid)
    for cell in _ENERGY_CELLS:
        assert row[cell] == "", (cell, row[cell])
    # The stored emissions were priced from that unusable total: not the run's either
    # (``records.stored_energy.summary_emissions_fault``), and with no sample to price it
    # again (`report` refuses it too), the cell is empty, never the stored figure.
    assert row["emissions"] == ""
    said = " | ".join(notes)
    assert ("the stored emissions are not usable: priced from the stored energy, which is "
            "not usable: a damaged record, and the run cannot be priced again" in said), notes
    assert ("energy_consumed, cpu_energy" in said
            and "left empty: the stored energy is not usable: implausibly large" in said
            and "no energy samples" in said), notes


def test_codecarbon_of_a_usable_total_without_samples_writes_that_total(
        tmp_path: Path) -> None:
    db = tmp_path / "r.db"
    rid = _record(db)
    total = float(Store(db).get_run(rid).summary["energy_j"])
    _damage(db, rid, samples=False)
    row, notes = _codecarbon(db, rid)
    assert float(row["energy_consumed"]) * _J_PER_KWH == pytest.approx(total, rel=1e-12)
    # no sample to split it by: the summary's own split of that total (its one domain)
    assert float(row["cpu_energy"]) * _J_PER_KWH == pytest.approx(total, rel=1e-12)
    assert any("cpu:package" in n and "has no samples in this record: its column takes "
               "the summary's figure for it" in n for n in notes), notes


def test_csv_export_says_the_stored_total_is_not_usable(tmp_path: Path) -> None:
    db = tmp_path / "r.db"
    rid = _record(db)
    _damage(db, rid, energy_j=-5.0)
    store = Store(db)
    try:
        notes: list[str] = []
        export_csv(store.samples(rid), notes=notes, record=store.get_run(rid))
    finally:
        store.close()
    assert "the stored energy is not usable: negative (-5 J): a damaged record" in notes
    # the clipping note compares with no damaged figure
    assert not any("the run's total is -5 J" in n for n in notes), notes


@pytest.mark.parametrize("fmt", ["codecarbon", "csv", "json"])
def test_the_cli_prints_the_note(tmp_path: Path, fmt: str) -> None:
    db = tmp_path / "r.db"
    rid = _record(db)
    _damage(db, rid, energy_j="abc")
    out = tmp_path / f"out.{fmt}"
    r = runner.invoke(app, ["export", str(rid), "-f", fmt, "-o", str(out), "--db", str(db)])
    assert r.exit_code == 0, r.output
    assert ("wattwise: note: the stored energy is not usable: not a number (stored as 'abc')"
            in r.output), r.output


@pytest.mark.parametrize("stored", ["abc", None, -5.0])
def test_json_export_gives_the_figure_show_and_report_give(tmp_path: Path, stored: Any) -> None:
    """A stored total that is not usable: the JSON export gives its samples' sum as
    ``show --json`` and ``report --json`` do, not the note alone."""
    import json

    db = tmp_path / "r.db"
    rid = _record(db)
    _damage(db, rid, energy_j=stored)

    def cli(*args: str) -> Any:
        r = runner.invoke(app, [*args, "--db", str(db)])
        assert r.exit_code == 0, r.output
        return json.loads(r.stdout)

    exported = cli("export", str(rid), "-f", "json")
    shown = cli("show", str(rid), "--json")
    reported = cli("report", str(rid), "--json")
    energy = exported["figures"]["energy_j"]
    assert energy is not None and 0 < energy <= _samples_j(db, rid) * (1 + 1e-9)
    assert energy == shown["figures"]["energy_j"] == pytest.approx(reported["energy_j"],
                                                                    rel=1e-12)
    assert exported["figures"]["energy_note"] == shown["figures"]["energy_note"]
    assert exported["figures"]["emissions_g"] == shown["figures"]["emissions_g"]
    assert exported["run"]["summary"]["energy_j"] == stored  # the run as stored
