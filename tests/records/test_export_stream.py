"""The exports read a run's samples a chunk at a time and write them as read: the same
text as the whole-run functions, a run of any size in bounded memory, a run without a
summary priced as ``wattwise report`` prices it (sums taken in SQLite), and never a
half-written file under the target name."""

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
from wattwise.carbon.accounting import clip_to_window
from wattwise.cli import _register_all, app
from wattwise.errors import StoreError
from wattwise.records.export_codecarbon import export_codecarbon
from wattwise.records.export_values import (
    ClippedStream,
    clip_sorted,
    in_window,
    run_window,
    stored_partial,
    stored_samples,
)
from wattwise.records.store import SampleRow, Store

_register_all()
runner = CliRunner()


pytestmark = pytest.mark.usefixtures("no_ambient_zone")


def _record(db: Path) -> int:
    sensor = ConstantPowerSensor({"cpu:package": 40.0, "dram:0": 5.0})
    with wattwise.track("job", db=db, sensors=[sensor], interval_s=0.05, zone="DE") as run:
        time.sleep(0.3)
    assert run.flush() and run.run_id is not None
    return int(run.run_id)


def _lost(db: Path, n: int = 40) -> int:
    store = Store(db)
    try:
        rid = store.create_run(
            name="lost", started_unix_s=1000.0, host={"hostname": "h"}, hardware={},
            versions={}, sensors=[{"name": "fake", "domains": [
                {"name": "cpu:0", "component": "cpu", "kind": "measured", "source": "fake",
                 "in_total": True}]}],
        )
        store.add_samples(rid, [SampleRow(1000.0 + k, "cpu:0", 50.0 + k % 3, 50.0,
                                          50.0 + k % 3, 50.0 + k % 3)
                                for k in range(1, n + 1)])
    finally:
        store.close()
    return rid


def _damage_samples(db: Path, rid: int) -> None:
    """Times and energies that are not finite numbers, as a damaged file holds them."""
    with sqlite3.connect(db) as conn:
        ids = [r[0] for r in conn.execute(
            "SELECT rowid FROM samples WHERE run_id = ? ORDER BY t_unix_s, rowid", (rid,))]
        conn.execute("UPDATE samples SET t_unix_s = 9e999 WHERE rowid = ?", (ids[3],))
        conn.execute("UPDATE samples SET t_unix_s = 'abc' WHERE rowid = ?", (ids[5],))
        conn.execute("UPDATE samples SET energy_j = 'x' WHERE rowid = ?", (ids[7],))
        conn.execute("UPDATE samples SET t_unix_s = 0 WHERE rowid = ?", (ids[8],))
        conn.execute("UPDATE samples SET power_w = 9e999 WHERE rowid = ?", (ids[9],))


def _cli(db: Path, rid: int, fmt: str, out: Path) -> Any:
    return runner.invoke(app, ["export", str(rid), "--db", str(db), "-f", fmt, "-o", str(out)])


def test_sample_chunks_read_the_samples_in_order_a_chunk_at_a_time(tmp_path: Path) -> None:
    db = tmp_path / "r.db"
    rid = _record(db)
    _damage_samples(db, rid)
    store = Store(db)
    try:
        whole = store.samples(rid)
        chunks = list(store.sample_chunks(rid, 3))
        assert len(chunks) > 2 and all(len(c) <= 3 for c in chunks)
        assert [s for c in chunks for s in c] == whole
        # in clip order: as clip_to_window sorts them (a time not a number sorts as 0)
        clipped = [s for c in store.sample_chunks(rid, 4, clip_order=True) for s in c]
        assert clipped == clip_sorted(store.get_run(rid), whole)
    finally:
        store.close()


def test_a_clipped_stream_gives_in_windows_rows_and_note(tmp_path: Path) -> None:
    db = tmp_path / "r.db"
    rid = _record(db)
    _damage_samples(db, rid)
    store = Store(db)
    try:
        rec = store.get_run(rid)
        assert run_window(rec) is not None
        rows, note = in_window(rec, store.samples(rid))
        stream = stored_samples(store, rec, size=2)  # every chunk boundary crossed
        assert list(stream) == rows
        assert note is not None and stream.note() == note
        window = run_window(rec)
        assert window is not None
        assert rows == clip_to_window(store.samples(rid), *window)[0]
    finally:
        store.close()


@pytest.mark.parametrize("fmt", ["json", "csv", "codecarbon"])
@pytest.mark.parametrize("lost", [False, True])
def test_the_cli_export_never_reads_the_whole_run(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fmt: str, lost: bool) -> None:
    db = tmp_path / "r.db"
    rid = _lost(db) if lost else _record(db)

    def whole(self: Store, run_id: int) -> list[SampleRow]:
        raise AssertionError("the export read every sample at once")

    monkeypatch.setattr(Store, "samples", whole)
    out = tmp_path / f"out.{fmt}"
    result = _cli(db, rid, fmt, out)
    assert result.exit_code == 0, result.output
    assert out.stat().st_size > 0


@pytest.mark.parametrize("fmt", ["json", "csv", "codecarbon"])
def test_the_cli_writes_what_the_whole_run_functions_write(
        tmp_path: Path, fmt: str) -> None:
    from wattwise.records.export_csv import export_csv
    from wattwise.records.export_json import export_json

    db = tmp_path / "r.db"
    rid = _record(db)
    _damage_samples(db, rid)
    out = tmp_path / f"out.{fmt}"
    result = _cli(db, rid, fmt, out)
    assert result.exit_code == 0, result.output
    store = Store(db)
    try:
        rec, rows = store.get_run(rid), store.samples(rid)
        notes: list[str] = []
        if fmt == "json":
            from wattwise.records.run_sums import record_figures

            want = export_json(rec, rows, store.windows(rid), store.events(rid),
                               steps=store.steps(rid), notes=notes,
                               figures=record_figures(store, rec).get("figures")) + "\n"
        elif fmt == "csv":
            want = export_csv(rows, notes=notes, record=rec)
        else:
            want = export_codecarbon(rec, rows, notes=notes)
    finally:
        store.close()
    assert out.read_text(encoding="utf-8") == want
    said = " ".join(result.output.split())
    assert notes and all(" ".join(n.split())[:200] in said for n in notes), (notes, said)


def test_a_lost_runs_codecarbon_export_is_priced_as_report_prices_it(tmp_path: Path) -> None:
    db = tmp_path / "lost.db"
    rid = _lost(db)
    out = tmp_path / "cc.csv"
    result = _cli(db, rid, "codecarbon", out)
    assert result.exit_code == 0, result.output
    report = json.loads(runner.invoke(app, ["report", str(rid), "--db", str(db),
                                            "--json"]).output)
    (row,) = list(csv.DictReader(io.StringIO(out.read_text())))
    assert float(row["emissions"]) * 1000 == pytest.approx(
        report["emissions"]["emissions_g"], rel=1e-9)
    assert float(row["energy_consumed"]) * 3.6e6 == pytest.approx(report["energy_j"],
                                                                   rel=1e-9)
    store = Store(db)
    try:  # the same sums report takes in SQLite
        part, em = stored_partial(store, store.get_run(rid))
    finally:
        store.close()
    assert part is not None and em is not None
    assert float(row["emissions"]) * 1000 == em["emissions_g"]


@pytest.mark.parametrize("fmt", ["json", "csv", "codecarbon"])
def test_an_export_that_fails_midway_leaves_no_half_written_file(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fmt: str) -> None:
    db = tmp_path / "r.db"
    rid = _record(db)
    folder = tmp_path / "out"
    folder.mkdir()
    kept = folder / "kept.txt"
    kept.write_text("an earlier export\n")
    fresh = folder / "fresh.txt"

    def broken(self: ClippedStream) -> Any:
        yield from []
        raise StoreError("run database r.db: cannot read: database disk image is malformed")

    monkeypatch.setattr(ClippedStream, "__iter__", broken)
    for target in (kept, fresh):
        result = _cli(db, rid, fmt, target)
        assert result.exit_code != 0
        assert "malformed" in result.output and "Traceback" not in result.output
    assert kept.read_text() == "an earlier export\n"  # left as it was
    assert sorted(p.name for p in folder.iterdir()) == ["kept.txt"]  # nothing half-written


def test_the_export_keeps_an_existing_files_permissions(tmp_path: Path) -> None:
    db = tmp_path / "r.db"
    rid = _record(db)
    out = tmp_path / "out.json"
    out.write_text("old")
    out.chmod(0o640)
    link = tmp_path / "link.json"
    link.symlink_to(out)
    assert _cli(db, rid, "json", link).exit_code == 0
    assert link.is_symlink() and out.stat().st_mode & 0o777 == 0o640
    assert json.loads(out.read_text())["format"] == "wattwise-run"


@pytest.mark.parametrize(("stored", "why"), [
    (1e308, "implausibly large"),
    (-5.0, "negative"),
    ("abc", "not a number (stored as 'abc')"),
])
def test_codecarbon_reprices_damaged_stored_emissions_as_report_does(
        tmp_path: Path, stored: Any, why: str) -> None:
    db = tmp_path / "r.db"
    rid = _record(db)
    report = json.loads(runner.invoke(app, ["report", str(rid), "--db", str(db),
                                            "--json"]).output)
    with sqlite3.connect(db) as conn:
        summary = json.loads(conn.execute("SELECT summary_json FROM runs WHERE id = ?",
                                          (rid,)).fetchone()[0])
    stored_figures(db, rid, emissions={**summary["emissions"], "emissions_g": stored})
    out = tmp_path / "cc.csv"
    result = _cli(db, rid, "codecarbon", out)
    assert result.exit_code == 0, result.output
    (row,) = list(csv.DictReader(io.StringIO(out.read_text())))
    assert float(row["emissions"]) * 1000 == pytest.approx(
        report["emissions"]["emissions_g"], rel=1e-9)
    said = " ".join(result.output.split())
    assert f"the stored emissions are not usable: {why}" in said, result.output
    assert "priced again as `wattwise report` prices it" in said


def test_the_json_export_says_stored_emissions_are_not_usable(tmp_path: Path) -> None:
    db = tmp_path / "r.db"
    rid = _record(db)
    with sqlite3.connect(db) as conn:
        summary = json.loads(conn.execute("SELECT summary_json FROM runs WHERE id = ?",
                                          (rid,)).fetchone()[0])
    stored_figures(db, rid, emissions={**summary["emissions"], "emissions_g": 1e308})
    out = tmp_path / "r.json"
    assert _cli(db, rid, "json", out).exit_code == 0
    notes = json.loads(out.read_text())["notes"]
    assert any(n.startswith("the stored emissions are not usable: implausibly large")
               and n.endswith(": a damaged record") for n in notes), notes


def test_a_lost_runs_codecarbon_sums_in_sqlite_are_the_samples_sums(tmp_path: Path) -> None:
    db = tmp_path / "lost.db"
    rid = _lost(db)
    with sqlite3.connect(db) as conn:
        ids = [r[0] for r in conn.execute(
            "SELECT rowid FROM samples WHERE run_id = ? ORDER BY t_unix_s, rowid", (rid,))]
        for k in (2, 9, 11, 17, 20, 25, 31):  # more than a note names
            conn.execute("UPDATE samples SET energy_j = 'x' WHERE rowid = ?", (ids[k],))
        conn.execute("UPDATE samples SET energy_j = 9e999 WHERE rowid = ?", (ids[4],))
    out = tmp_path / "cc.csv"
    result = _cli(db, rid, "codecarbon", out)
    assert result.exit_code == 0, result.output
    store = Store(db)
    try:
        notes: list[str] = []
        want = export_codecarbon(store.get_run(rid), store.samples(rid), notes=notes)
    finally:
        store.close()
    (got,) = list(csv.DictReader(io.StringIO(out.read_text())))
    (row,) = list(csv.DictReader(io.StringIO(want)))
    assert got.keys() == row.keys()
    for key, value in row.items():
        try:
            assert float(got[key]) == pytest.approx(float(value), rel=1e-9), key
        except ValueError:
            assert got[key] == value, key
    said = " ".join(result.output.split())
    missing = [n for n in notes if " ".join(n.split())[:200] not in said]  # long ones cut
    assert notes and not missing, (missing, said)
    assert ("8 stored value(s) are not usable and are left out of the pricing:"
            " samples[2].energy_j ('x')") in said
