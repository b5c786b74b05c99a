"""`wattwise export --format codecarbon` fills the carbon and place columns as CodeCarbon does."""

from __future__ import annotations

import csv
import io
import time
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

import wattwise
from tests.fixtures.fake_sensors import ConstantPowerSensor
from wattwise.cli import _register_all, app
from wattwise.records.store import Store

_register_all()
runner = CliRunner()


pytestmark = pytest.mark.usefixtures("no_ambient_zone")


def _record(db: Path, **carbon: Any) -> int:
    sensor = ConstantPowerSensor({"cpu:package": 40.0})
    with wattwise.track("job", db=db, sensors=[sensor], interval_s=0.05, **carbon) as run:
        time.sleep(0.3)
    assert run.run_id is not None
    return int(run.run_id)


def _export(db: Path, run_id: int, out: Path) -> Any:
    r = runner.invoke(
        app, ["export", str(run_id), "--format", "codecarbon", "-o", str(out), "--db", str(db)]
    )
    assert r.exit_code == 0, r.output
    return r


def test_codecarbon_export_of_a_run_recorded_in_de_fills_emissions_and_place(
    tmp_path: Path,
) -> None:
    db = tmp_path / "r.db"
    run_id = _record(db, zone="DE")
    summary = Store(db).get_run(run_id).summary
    want_kg = summary["emissions"]["emissions_g"] / 1000
    out = tmp_path / "emissions.csv"
    r = _export(db, run_id, out)
    with out.open(newline="") as f:
        rows = list(csv.DictReader(f))
    (row,) = rows
    assert sum(float(x["emissions"]) for x in rows) == pytest.approx(want_kg, rel=1e-9)
    duration = float(row["duration"])
    assert float(row["emissions_rate"]) == pytest.approx(want_kg / duration, rel=1e-9)
    assert row["country_name"] == "Germany"
    assert row["country_iso_code"] == "DEU"
    assert float(row["pue"]) == 1.0
    # energy_consumed is facility kWh (IT energy x PUE), as CodeCarbon's
    assert float(row["energy_consumed"]) == pytest.approx(summary["energy_j"] / 3.6e6)
    # DE is a whole country: no region, and a note says so instead of a silent empty cell
    assert row["region"] == ""
    notes = [line for line in r.stderr.splitlines() if line.startswith("wattwise: note:")]
    assert any("region" in n for n in notes), r.stderr
    empty = [c for c, v in row.items() if v == ""]
    said = " ".join(notes)
    assert all(c in said for c in empty), (empty, said)


def test_codecarbon_export_reads_back_with_pandas(tmp_path: Path) -> None:
    pd = pytest.importorskip("pandas")
    db = tmp_path / "r.db"
    run_id = _record(db, zone="DE", pue=1.2)
    want_kg = Store(db).get_run(run_id).summary["emissions"]["emissions_g"] / 1000
    out = tmp_path / "emissions.csv"
    _export(db, run_id, out)
    df = pd.read_csv(out)
    assert df.emissions.sum() == pytest.approx(want_kg, rel=1e-9)
    assert df.pue.iloc[0] == 1.2
    assert df.country_iso_code.iloc[0] == "DEU"


def test_codecarbon_export_of_a_run_without_a_zone_says_the_country_is_unknown(
    tmp_path: Path,
) -> None:
    db = tmp_path / "r.db"
    run_id = _record(db)
    out = tmp_path / "emissions.csv"
    r = _export(db, run_id, out)
    (row,) = list(csv.DictReader(io.StringIO(out.read_text())))
    assert float(row["emissions"]) > 0  # priced at the world average, which is recorded
    assert row["country_iso_code"] == "" and row["country_name"] == ""
    assert "country" in r.stderr and "world average" in r.stderr


@pytest.mark.parametrize(("zone", "iso", "name", "region"), [
    ("gcp:asia-southeast2", "IDN", "Indonesia", ""),  # a country outside the export's table
    ("CN-GD", "CHN", "China", "CN-GD"),                # a province
    ("DEU", "DEU", "Germany", ""),                     # recorded by its alpha-3 name
])
def test_codecarbon_export_names_the_country_of_any_zone_with_an_iso_code(
    tmp_path: Path, zone: str, iso: str, name: str, region: str
) -> None:
    db = tmp_path / "r.db"
    run_id = _record(db, zone=zone)
    out = tmp_path / "emissions.csv"
    _export(db, run_id, out)
    (row,) = list(csv.DictReader(io.StringIO(out.read_text())))
    assert (row["country_iso_code"], row["country_name"]) == (iso, name)
    assert row["region"] == region


def _row(db: Path, run_id: int, tmp_path: Path) -> tuple[dict[str, str], Any]:
    out = tmp_path / "emissions.csv"
    r = _export(db, run_id, out)
    with out.open(newline="") as f:
        (row,) = list(csv.DictReader(f))
    return row, r


def test_codecarbon_duration_and_every_power_are_the_measured_windows(tmp_path: Path) -> None:
    db = tmp_path / "r.db"
    run_id = _record(db, zone="DE")
    rec = Store(db).get_run(run_id)
    summary = rec.summary
    # the run's row opens before the meter's window and so is longer than it
    assert rec.ended_unix_s - rec.started_unix_s != summary["duration_s"]
    assert rec.duration_s == summary["duration_s"]
    row, _ = _row(db, run_id, tmp_path)
    duration = float(row["duration"])
    assert duration == summary["duration_s"]
    cpu_kwh = float(row["cpu_energy"])
    assert float(row["cpu_power"]) == pytest.approx(cpu_kwh * 3.6e6 / duration, rel=1e-12)
    # a constant 40 W sensor gives about 40 W back over the window its energy was read
    # over (the fake sensor reads its own clock a moment after the meter's: on a loaded
    # machine that moment is milliseconds of a 0.3 s window)
    assert float(row["cpu_power"]) == pytest.approx(40.0, rel=2e-2)
    assert float(row["emissions_rate"]) == pytest.approx(
        float(row["emissions"]) / duration, rel=1e-12)


def test_codecarbon_ram_total_size_is_the_exact_recorded_bytes_in_gib(tmp_path: Path) -> None:
    db = tmp_path / "r.db"
    run_id = _record(db, zone="DE")
    hardware = Store(db).get_run(run_id).hardware
    row, _ = _row(db, run_id, tmp_path)
    assert float(row["ram_total_size"]) == pytest.approx(
        hardware["memory_bytes"] / 2**30, rel=1e-12)


def test_codecarbon_cpu_utilization_is_the_machines_busy_share_over_the_run(
    tmp_path: Path,
) -> None:
    db = tmp_path / "r.db"
    run_id = _record(db, zone="DE")
    rec = Store(db).get_run(run_id)
    busy = rec.summary["attribution"]["machine_busy_cpu_s"]
    row, _ = _row(db, run_id, tmp_path)
    want = busy / (rec.hardware["logical_cpus"] * rec.summary["duration_s"]) * 100
    # CPU times tick every 10 ms: over a short, busy run the share may read a hair over 100
    assert float(row["cpu_utilization_percent"]) == pytest.approx(min(100.0, want), rel=1e-9)
    assert 0.0 <= float(row["cpu_utilization_percent"]) <= 100.0


def test_codecarbon_cpu_utilization_left_empty_says_why(tmp_path: Path) -> None:
    import dataclasses

    from wattwise.records.export_codecarbon import export_codecarbon

    db = tmp_path / "r.db"
    run_id = _record(db, zone="DE")
    rec = Store(db).get_run(run_id)
    bare = dataclasses.replace(rec, summary={**rec.summary, "attribution": None})
    notes: list[str] = []
    (row,) = list(csv.DictReader(io.StringIO(export_codecarbon(bare, notes=notes))))
    assert row["cpu_utilization_percent"] == ""
    assert any("cpu_utilization_percent" in n and "no busy CPU time" in n for n in notes)


def test_a_run_without_a_summary_is_priced_once_in_both_exports(tmp_path: Path) -> None:
    import json

    from wattwise.carbon.partial import partial_emissions, partial_energy_of
    from wattwise.records.export_codecarbon import export_codecarbon
    from wattwise.records.export_json import export_json
    from wattwise.records.store import SampleRow

    db = tmp_path / "lost.db"
    store = Store(db)
    rid = store.create_run(
        name="lost", started_unix_s=1000.0, host={"hostname": "h"}, hardware={}, versions={},
        sensors=[{"name": "fake", "domains": [
            {"name": "cpu:0", "component": "cpu", "kind": "measured", "source": "fake",
             "in_total": True}]}],
    )
    store.add_samples(rid, [SampleRow(1000.0 + k, "cpu:0", 50.0, 50.0, 50.0, 50.0)
                            for k in range(1, 5)])
    rec, rows = store.get_run(rid), store.samples(rid)
    assert rec.summary is None
    part = partial_energy_of(rec, rows)
    assert part is not None
    expected = partial_emissions(rec, rows, part)
    assert expected is not None and expected["emissions_g"] > 0
    doc = json.loads(export_json(rec, rows, [], []))
    assert doc["emissions_so_far"]["emissions_g"] == expected["emissions_g"]
    (row,) = list(csv.DictReader(io.StringIO(export_codecarbon(rec, rows))))
    assert float(row["emissions"]) * 1000 == pytest.approx(expected["emissions_g"], rel=1e-12)


def test_the_country_columns_say_why_they_are_empty_truly() -> None:
    """A zone the emissions block records that wattwise does not know is said so, never
    "no zone recorded"; the world average is "no usable zone recorded" (none, or one set
    aside)."""
    from wattwise.records.codecarbon_cells import _carbon_cells

    block = {"emissions_g": 1.0, "pue": 1.0}
    _, why = _carbon_cells({**block, "zone": "ZZ-NOWHERE"})
    said = dict(why)[("country_name", "country_iso_code", "region")]
    assert said == "its emissions record a zone wattwise does not know ('ZZ-NOWHERE')"
    _, why = _carbon_cells({**block, "zone": "WORLD"})
    assert dict(why)[("country_name", "country_iso_code", "region")].startswith(
        "the run was priced at the world average (no usable zone recorded;")
    for none in (None, ""):  # priced where the record says, which names no zone here
        _, why = _carbon_cells({**block, "zone": none})
        assert dict(why)[("country_name", "country_iso_code", "region")] == \
            "its emissions record no zone"


def test_a_cloud_region_is_not_called_a_whole_country(tmp_path: Path) -> None:
    """aws:eu-west-1's empty region was said "a whole country"."""
    db = tmp_path / "r.db"
    run_id = _record(db, zone="aws:eu-west-1")
    r = _export(db, run_id, tmp_path / "emissions.csv")
    notes = [line for line in r.stderr.splitlines() if "region left empty" in line]
    assert notes == ["wattwise: note: CodeCarbon column(s) region left empty: the run's zone "
                     "aws:eu-west-1 is a cloud region in a whole country's grid (IE) "
                     "(CodeCarbon's region is a state or province)"], r.stderr


def test_codecarbon_cpu_utilization_of_cpu_times_no_run_could_hold_says_why(
        tmp_path: Path) -> None:
    """A negative busy time was written as 0 % (clamped), with no word."""
    import dataclasses

    from wattwise.records.export_codecarbon import export_codecarbon

    db = tmp_path / "r.db"
    run_id = _record(db, zone="DE")
    rec = Store(db).get_run(run_id)
    att = {**rec.summary["attribution"], "machine_busy_cpu_s": -3.0}
    bad = dataclasses.replace(rec, summary={**rec.summary, "attribution": att})
    notes: list[str] = []
    (row,) = list(csv.DictReader(io.StringIO(export_codecarbon(bad, notes=notes))))
    assert row["cpu_utilization_percent"] == ""
    assert any("cpu_utilization_percent" in n and "the stored machine_busy_cpu_s of its "
               "attribution is not usable: negative (-3 CPU-s)" in n for n in notes), notes
