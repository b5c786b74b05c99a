"""The CodeCarbon export's CPU cells: a capped share is said, a damaged CPU count is
neither written nor used, and the reasons name what is wrong."""

from __future__ import annotations

import csv
import dataclasses
import io
import time
from typing import Any

import pytest

import wattwise
from tests.fixtures.fake_sensors import ConstantPowerSensor
from wattwise.records.export_codecarbon import export_codecarbon
from wattwise.records.store import RunInfo, Store
from wattwise.records.stored_attribution import time_fault, usable_cpus

pytestmark = pytest.mark.usefixtures("no_ambient_zone")


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> RunInfo:
    db = tmp_path_factory.mktemp("cc") / "r.db"
    sensor = ConstantPowerSensor({"cpu:package": 40.0})
    with wattwise.track("job", db=db, sensors=[sensor], interval_s=0.05, zone="DE") as run:
        time.sleep(0.2)
    return Store(db).get_run(int(run.run_id or 0))


def _row(rec: RunInfo, hardware: dict[str, Any] | None = None, **att: Any
         ) -> tuple[dict[str, str], list[str]]:
    summary = {**rec.summary, "attribution": {**rec.summary["attribution"], **att}}
    hw = {k: v for k, v in rec.hardware.items() if k not in ("cpu_count", "logical_cpus")}
    run = dataclasses.replace(rec, summary=summary, hardware={**hw, **(hardware or {})})
    notes: list[str] = []
    (row,) = list(csv.DictReader(io.StringIO(export_codecarbon(run, notes=notes))))
    return row, notes


def test_a_share_past_100_within_the_clock_ticks_is_written_100_and_said(
        recorded: RunInfo) -> None:
    """0.04 busy CPU-s on 2 CPUs over 11.2 ms is 178.6 %: within the ticks' allowance,
    written 100 with no word before."""
    d = recorded.summary["duration_s"]
    busy = 2 * (d + 0.04)  # inside 2 x (d + 0.05)
    want = f"not the {busy / (2 * d) * 100:.4g} % its figures give"
    row, notes = _row(recorded, {"logical_cpus": 2}, tree_cpu_s=busy / 2,
                      machine_busy_cpu_s=busy, share=0.5)
    assert float(row["cpu_utilization_percent"]) == 100.0
    (said,) = [n for n in notes if "cpu_utilization_percent is 100" in n]
    assert want in said, said
    assert "over 2 CPUs" in said and "clock ticks" in said


def test_a_share_within_100_is_written_as_it_is_with_no_note(recorded: RunInfo) -> None:
    d = recorded.summary["duration_s"]
    row, notes = _row(recorded, {"logical_cpus": 4}, tree_cpu_s=d, machine_busy_cpu_s=2 * d,
                      share=0.5)
    assert float(row["cpu_utilization_percent"]) == pytest.approx(50.0, rel=1e-9)
    assert not [n for n in notes if "cpu_utilization_percent" in n or "cpu_count" in n], notes
    assert row["cpu_count"] == "4"


@pytest.mark.parametrize(("stored", "why"), [
    ("2", "not a number (stored as '2')"),
    (True, "not a number (stored as 'true')"),
    (-1, "below 1 (-1)"),
    (0, "below 1 (0)"),
    (2.5, "not a whole number (2.5)"),
    (1e9, "implausibly large (1e+09, more than 65,536)"),
    (float("nan"), "not a finite number (stored as nan)"),
])
def test_a_damaged_cpu_count_is_not_written_and_says_why(
        recorded: RunInfo, stored: Any, why: str) -> None:
    """A damaged count was echoed into ``cpu_count`` as stored, and the empty share's
    reason said it was "not recorded"."""
    d = recorded.summary["duration_s"]
    row, notes = _row(recorded, {"cpu_count": stored}, tree_cpu_s=d / 2,
                      machine_busy_cpu_s=d, share=0.5)
    assert row["cpu_count"] == ""
    assert row["cpu_utilization_percent"] == ""
    want = f"its stored CPU count (the host's logical CPUs) is not usable: {why}"
    (line,) = [n for n in notes if want in n]
    assert "cpu_count" in line and "cpu_utilization_percent" in line, notes


def test_a_whole_float_count_is_a_count(recorded: RunInfo) -> None:
    assert usable_cpus({"cpu_count": 8.0}) == (8, None)
    assert usable_cpus({}) == (None, None)


def test_a_missing_count_empties_the_share_and_says_not_recorded(recorded: RunInfo) -> None:
    row, notes = _row(recorded)
    assert row["cpu_count"] == "" and row["cpu_utilization_percent"] == ""
    assert any("cpu_utilization_percent" in n and "its CPU count (the host's logical CPUs) "
               "was not recorded" in n for n in notes), notes


def test_hardware_that_cannot_be_read_is_named_not_called_unrecorded(
        recorded: RunInfo) -> None:
    """A NaN in the stored hardware's JSON drops it whole: the export said the CPU count
    "was not recorded"."""
    d = recorded.summary["duration_s"]
    summary = {**recorded.summary, "attribution": {**recorded.summary["attribution"],
               "tree_cpu_s": d / 2, "machine_busy_cpu_s": d, "share": 0.5}}
    run = dataclasses.replace(recorded, summary=summary, hardware={},
                              damaged={"hardware": "not valid JSON"})
    notes: list[str] = []
    (row,) = list(csv.DictReader(io.StringIO(export_codecarbon(run, notes=notes))))
    assert row["cpu_count"] == "" and row["cpu_utilization_percent"] == ""
    assert any("cpu_utilization_percent" in n and "its stored hardware cannot be read" in n
               for n in notes), notes


def test_one_cpu_is_written_in_the_singular() -> None:
    why = time_fault({"tree_cpu_s": 1.0, "machine_busy_cpu_s": 2.0, "share": 0.5}, 1, 0.1)
    assert why is not None and "the machine's 1 CPU could be busy" in why, why
    why = time_fault({"tree_cpu_s": 1.0, "machine_busy_cpu_s": 2.0, "share": 0.5}, 2, 0.1)
    assert why is not None and "the machine's 2 CPUs could be busy" in why, why



@pytest.mark.parametrize(("fields", "empty"), [
    (("hardware",), {"cpu_model": "hardware", "ram_total_size": "hardware"}),
    (("host",), {"os": "host"}),  # its python is the versions' too: written
    (("host", "versions"), {"os": "host", "python_version": "versions"}),
])
def test_columns_of_a_field_that_cannot_be_read_say_so(
        recorded: RunInfo, tmp_path: Any, fields: tuple[str, ...], empty: dict[str, str]
) -> None:
    """With the hardware's JSON unreadable (a NaN in it), ``cpu_model`` and
    ``ram_total_size`` (recorded, and filled for a sound run) were called "not measured or
    not recorded with this run"."""
    import shutil
    import sqlite3

    from typer.testing import CliRunner

    from tests._cli_out import app  # the commands registered

    db = tmp_path / "r.db"
    shutil.copy(recorded.db_path, db)
    args = ["export", str(recorded.id), "--db", str(db), "-f", "codecarbon"]

    def exported() -> tuple[dict[str, str], list[str]]:
        r = CliRunner().invoke(app, args, env={"COLUMNS": "400"})
        assert r.exit_code == 0, (r.stderr, r.exception)
        (row,) = list(csv.DictReader(io.StringIO(r.stdout)))
        return row, " ".join(r.stderr.split()).split("wattwise: note: ")

    sound, _ = exported()
    assert all(sound[c] for c in ("cpu_model", "ram_total_size", "os", "python_version"))
    conn = sqlite3.connect(db)
    for name in fields:
        conn.execute(f"UPDATE runs SET {name}_json = '{{\"x\": NaN}}' WHERE id = ?",
                     (recorded.id,))
    conn.commit()
    conn.close()
    row, notes = exported()
    for column in ("cpu_model", "ram_total_size", "os", "python_version"):
        assert (row[column] == "") == (column in empty), (column, row[column])
    for column, name in empty.items():
        (line,) = [n for n in notes if "left empty" in n and column in n.split(" left ")[0]]
        assert line.rstrip().endswith(f"left empty: its stored {name} cannot be read (see "
                                      "its note)"), line


def test_a_run_lost_before_its_summary_is_not_said_to_measure_no_process_tree(
        tmp_path: Any) -> None:
    """A run killed before its summary measured a process tree: its busy CPU time, which
    the summary holds, was lost with it."""
    import sqlite3

    from tests._damage import summaryless

    db = tmp_path / "r.db"
    summaryless(db)
    (row,) = list(csv.DictReader(io.StringIO(export_codecarbon(
        Store(db).get_run(1), notes=(notes := [])))))
    assert row["cpu_utilization_percent"] == ""
    (said,) = [n for n in notes if "cpu_utilization_percent" in n]
    assert said.endswith("left empty: the run has no summary, which holds the busy CPU time "
                         "(it ended before storing one)"), said
    conn = sqlite3.connect(db)
    conn.execute("UPDATE runs SET summary_json = '{\"x\": NaN}' WHERE id = 1")
    conn.commit()
    conn.close()
    notes = []
    export_codecarbon(Store(db).get_run(1), notes=notes)
    (said,) = [n for n in notes if "cpu_utilization_percent" in n]
    assert said.endswith("its stored summary cannot be read (see its note)"), said
