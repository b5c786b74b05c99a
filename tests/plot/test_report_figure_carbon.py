"""``wattwise report --svg/--png`` draw the run page's figure: the power and, under it,
the grid intensity and emissions so far, ending at the figure report prints; a run
whose stored total is damaged says so on the figure as report says it in text."""

from __future__ import annotations

import json
import re
import sqlite3
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.server._runs import fixture_db
from wattwise.cli import _register_all, app

_register_all()
runner = CliRunner()
pytestmark = pytest.mark.usefixtures("no_ambient_zone")


def _report(db: Path, run_id: int, svg: Path) -> dict[str, object]:
    r = runner.invoke(app, ["report", str(run_id), "--db", str(db), "--svg", str(svg),
                            "--json"], env={"COLUMNS": "300"})
    assert r.exit_code == 0, r.output
    out = json.loads(r.output)
    assert isinstance(out, dict)
    return out


def test_report_svg_draws_intensity_and_emissions_ending_at_the_printed_figure(
        tmp_path: Path) -> None:
    db = tmp_path / "runs.db"
    rid = int(fixture_db(db)["demo"])
    out = _report(db, rid, tmp_path / "r.svg")
    svg = (tmp_path / "r.svg").read_text()
    assert "Grid intensity and emissions" in svg
    assert "intensity (g/kWh)" in svg and "emissions (gCO2eq)" in svg
    assert re.search(r'<polyline class="intensity"', svg)
    assert re.search(r'<polyline class="emissions"', svg)
    emissions = out["emissions"]
    assert isinstance(emissions, dict)
    assert f"{emissions['emissions_g']:.4g} gCO2eq at the end" in svg


def test_a_damaged_stored_total_is_said_on_the_figure(tmp_path: Path) -> None:
    db = tmp_path / "runs.db"
    rid = int(fixture_db(db)["demo"])
    with sqlite3.connect(db) as con:
        (text,) = con.execute("SELECT summary_json FROM runs WHERE id = ?", (rid,)).fetchone()
        damaged = re.sub(r'"low_j": ?[0-9.eE+-]+', '"low_j": ' + "1" + "0" * 399, text,
                         count=1)
        assert damaged != text
        con.execute("UPDATE runs SET summary_json = ? WHERE id = ?", (damaged, rid))
    out = _report(db, rid, tmp_path / "d.svg")
    note = out["energy_note"]
    assert isinstance(note, str) and "400 digits" in note
    svg = (tmp_path / "d.svg").read_text()
    subtitle = re.search(r'class="subtitle"[^>]*>([^<]*)<', svg)
    assert subtitle and "note: the stored energy is not usable" in subtitle.group(1)
    notes = " ".join(re.findall(r'class="note"[^>]*>([^<]*)<', svg))
    assert "400 digits" in notes and "a damaged record" in notes
