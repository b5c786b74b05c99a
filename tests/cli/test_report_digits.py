"""Every output gives a run's energy and emissions as the same number, to the last digit:
``report`` gave the energy as its priced total read back through kWh (7.3 J as
7.300000000000001 J) and priced a finished run again from sums of its samples (its last
digit could differ from the recorded figure every other output gives), and ``runs
--json`` priced a run without a summary from its rows in Python where the others price
it from sums inside SQLite."""

from __future__ import annotations

import json
import math
import sqlite3
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests._cli_out import cli_out
from tests._damage import tracked_run
from wattwise.records.store import SampleRow, Store

pytestmark = pytest.mark.usefixtures("no_ambient_zone")
DEAD = 2**22 + 9  # above Linux's largest pid: no such process
START = 1_700_000_000.0


def _cli(*args: str) -> dict:
    return json.loads(cli_out(*args))


def _lost(db: Path, energies: list[float]) -> int:
    """A run without a summary whose process is gone, one sample of each energy (J)."""
    with Store(db) as store:
        rid = store.create_run(name="lost", started_unix_s=START, host={}, hardware={},
                               sensors=[], versions={}, pid=DEAD)
        store.add_samples(rid, [SampleRow(START + 0.1 * (1 + t), "cpu:model", e, e, e, e,
                                          False) for t, e in enumerate(energies)])
    return rid


def test_a_lost_runs_energy_is_the_same_number_in_report(tmp_path: Path) -> None:
    db = tmp_path / "runs.db"
    rid = _lost(db, [2.0, 2.0, 3.3])
    assert 2.0 + 2.0 + 3.3 == 7.3 and 7.3 / 3.6e6 * 3.6e6 != 7.3  # what the test needs
    report = _cli("report", str(rid), "--json", "--zone", "DE", "--db", str(db))
    (listed,) = _cli("runs", "--json", "--db", str(db))
    shown = _cli("show", str(rid), "--json", "--db", str(db))
    from wattwise.server import create_app

    with TestClient(create_app(db), base_url="http://127.0.0.1") as client:
        (row,) = client.get("/api/runs").json()["runs"]
    assert report["energy_j"] == listed["energy_so_far"]["energy_j"] == 7.3
    assert shown["energy_so_far"]["energy_j"] == row["energy_j"] == 7.3


def _shift(db: Path, rid: int, factor: float) -> dict:
    """The run's recorded emissions and energy in kWh moved by ``factor`` (1 ulp: another
    rounding of the same pricing; 1e-6: another figure)."""
    with sqlite3.connect(db) as conn:
        summary = json.loads(conn.execute("SELECT summary_json FROM runs WHERE id = ?",
                                          (rid,)).fetchone()[0])
        em = summary["emissions"]
        for key in ("emissions_g", "low_g", "high_g", "energy_kwh", "facility_energy_kwh"):
            em[key] = (math.nextafter(em[key], math.inf) if factor == 0
                       else em[key] * (1 + factor))
        conn.execute("UPDATE runs SET summary_json = ? WHERE id = ?",
                     (json.dumps(summary), rid))
    conn.close()
    return em


def test_report_gives_the_recorded_emissions_where_it_prices_them_again_alike(
        tmp_path: Path) -> None:
    db = tmp_path / "runs.db"
    rid = tracked_run(db)
    recorded = _shift(db, rid, 0)
    report = _cli("report", str(rid), "--json", "--db", str(db))["emissions"]
    shown = _cli("show", str(rid), "--json", "--db", str(db))["summary"]["emissions"]
    for key in ("emissions_g", "low_g", "high_g", "energy_kwh"):
        assert report[key] == shown[key] == recorded[key], key
    # another figure (not rounding): priced again, as report prices it
    moved = _shift(db, rid, 1e-6)
    report = _cli("report", str(rid), "--json", "--db", str(db))["emissions"]
    assert report["emissions_g"] == pytest.approx(moved["emissions_g"] / (1 + 1e-6),
                                                  rel=1e-9)
    assert report["emissions_g"] != moved["emissions_g"]
    # priced in another zone: that zone's figure
    elsewhere = _cli("report", str(rid), "--json", "--zone", "FR", "--db", str(db))
    assert elsewhere["emissions"]["zone"] == "FR"
    assert elsewhere["emissions"]["emissions_g"] < 0.5 * report["emissions_g"]


def test_runs_json_prices_a_run_without_a_summary_as_show_does(tmp_path: Path) -> None:
    db = tmp_path / "runs.db"
    rid = _lost(db, [0.1 + k / 7 for k in range(40)])
    (listed,) = _cli("runs", "--json", "--db", str(db))
    shown = _cli("show", str(rid), "--json", "--db", str(db))
    report = _cli("report", str(rid), "--json", "--db", str(db))
    assert listed["emissions_so_far"]["emissions_g"] == \
        shown["emissions_so_far"]["emissions_g"] == report["emissions"]["emissions_g"]
