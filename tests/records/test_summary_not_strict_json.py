"""A stored summary holding NaN or Infinity (not JSON: SQLite's ``json_valid`` refuses it,
and wattwise never writes it) is a summary that cannot be read in every output, as the
list's SQL and the runs index read it: its samples give its figure everywhere, and the
``/metrics`` totals count that figure (they dropped the run while the list showed its
stored 29.5 J, and the sorts ranked that figure among the runs without one)."""

from __future__ import annotations

import json
import re
import sqlite3
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from tests._damage import tracked_run
from wattwise.cli import _register_all, app

_register_all()
pytestmark = pytest.mark.usefixtures("no_ambient_zone")


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_a_summary_holding_a_bare_constant_cannot_be_read_anywhere(
        tmp_path: Path, constant: str) -> None:
    from wattwise.server import create_app

    db = tmp_path / "r.db"
    rid = tracked_run(db)
    with sqlite3.connect(db) as conn:
        text = conn.execute("SELECT summary_json FROM runs WHERE id = ?", (rid,)).fetchone()[0]
        assert '"avg_power_w":' in text.replace(" ", "")
        damaged = re.sub(r'"avg_power_w":\s*[0-9.e+-]+', f'"avg_power_w": {constant}', text,
                         count=1)
        conn.execute("UPDATE runs SET summary_json = ? WHERE id = ?", (damaged, rid))
    conn.close()
    why = (f"the stored summary cannot be read (damaged record: not valid JSON ("
           f"{constant} is not a JSON number))")

    def cli(*args: str) -> str:
        r = CliRunner().invoke(app, [*args, "--db", str(db)])
        assert r.exit_code == 0, r.output
        return r.stdout

    shown = json.loads(cli("show", str(rid), "--json"))
    assert any(n.startswith(why) for n in shown["notes"]), shown["notes"]
    energy = shown["energy_so_far"]["energy_j"]
    reported = json.loads(cli("report", str(rid), "--json"))
    assert reported["energy_j"] == pytest.approx(energy, rel=1e-12)
    with TestClient(create_app(db), base_url="http://127.0.0.1") as client:
        (row,) = client.get("/api/runs?all_notes=true").json()["runs"]
        total = re.search(r'wattwise_energy_joules_total\{kind="measured"\} (\S+)',
                          client.get("/metrics").text)
    assert row["so_far"] is True and row["energy_j"] == pytest.approx(energy, rel=1e-12)
    assert any(n.startswith(why) for n in row["notes"]), row["notes"]
    assert total is not None and float(total.group(1)) == pytest.approx(energy, rel=1e-9)
