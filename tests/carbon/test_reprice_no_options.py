"""A summary that records neither carbon options nor emissions (another tool's, a damaged
one) is priced as the run was started, as a run without a summary is: its zone, never the
world average with a "no zone set" note the record contradicts."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests._damage import tracked_run
from wattwise.carbon.yearly import YearlySource
from wattwise.cli import _register_all, app

_register_all()
pytestmark = pytest.mark.usefixtures("no_ambient_zone")


@pytest.mark.parametrize("zone", ["FR", "DE"])
def test_priced_in_the_zone_the_run_was_started_with(tmp_path: Path, zone: str) -> None:
    db = tmp_path / "r.db"
    rid = tracked_run(db, zone=zone, seconds=0.2)
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE runs SET summary_json = ? WHERE id = ?",
                     (json.dumps({"energy_j": 100.0}), rid))
    conn.close()
    r = CliRunner().invoke(app, ["report", str(rid), "--json", "--db", str(db)])
    assert r.exit_code == 0, r.output
    em = json.loads(r.stdout)["emissions"]
    assert em["zone"] == zone
    g_per_kwh = YearlySource().intensity_at(zone).intensity_g_per_kwh
    assert em["emissions_g"] == pytest.approx(100.0 / 3.6e6 * g_per_kwh, rel=1e-9)
    assert f"priced at zone {zone}, as the run was started with (its summary records no " \
           "carbon options)" in em["notes"], em["notes"]
    assert not any("no zone set" in n for n in em["notes"]), em["notes"]
