"""``wattwise runs`` (table and ``--json``) and ``export -f json`` of a run whose stored
total energy is not usable say why, in the words ``show`` and the dashboard use
(``records.stored_energy``), never a bare "-" or the damaged figure as a reading."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from tests.fixtures.damaged import stored_figures
from tests.server._runs import fixture_db
from wattwise.cli import _register_all, app
from wattwise.records.run_notes import NO_COUNTED_SAMPLE

_register_all()
runner = CliRunner()


def _damaged(tmp_path: Path, stored: Any) -> tuple[Path, int]:
    db = tmp_path / "runs.db"
    rid = fixture_db(db)["smaller"]
    stored_figures(db, rid, energy_j=stored, low_j=10.0, high_j=30.0)
    return db, rid


def _energy_cell(table: str, rid: int) -> str:
    """The energy cell of run ``rid`` in ``runs``' table, its wrapped lines joined."""
    cells = [line.split("│") for line in table.splitlines() if line.count("│") == 8]
    start = next(i for i, c in enumerate(cells) if c[1].strip() == str(rid))
    end = next((i for i in range(start + 1, len(cells)) if cells[i][1].strip()), len(cells))
    return " ".join(c[6].strip() for c in cells[start:end])


@pytest.mark.parametrize(("stored", "why"), [
    ("abc", "not a number (stored as 'abc')"),
    (-5.0, "negative (-5 J)"),
    ("[red]x[/red]", "not a number (stored as '[red]x[/red]')"),
])
def test_runs_and_export_say_why_a_stored_total_is_not_usable(
        tmp_path: Path, stored: Any, why: str) -> None:
    db, rid = _damaged(tmp_path, stored)
    note = f"the stored energy is not usable: {why}: a damaged record"
    res = runner.invoke(app, ["runs", "--db", str(db), "--limit", "100"], env={"COLUMNS": "400"})
    assert res.exit_code == 0, res.output
    assert f"not usable: {why}" in _energy_cell(res.stdout, rid)  # markup shown as text
    res = runner.invoke(app, ["runs", "--db", str(db), "--limit", "100", "--json"])
    got = {r["id"]: r for r in json.loads(res.stdout)}
    assert got[rid]["notes"] == [note]
    none = [NO_COUNTED_SAMPLE]  # a run without a summary or a counted sample: said why
    assert all(r["notes"] == ([] if r["summary"] is not None or r["energy_so_far"] else none)
               for i, r in got.items() if i != rid), got
    out = tmp_path / "run.json"
    res = runner.invoke(app, ["export", str(rid), "--db", str(db), "-f", "json", "-o", str(out)])
    assert res.exit_code == 0, res.output
    assert note in json.loads(out.read_text())["notes"]


def test_a_usable_total_is_shown_as_a_figure(tmp_path: Path) -> None:
    db = tmp_path / "runs.db"
    fixture_db(db)
    res = runner.invoke(app, ["runs", "--db", str(db)], env={"COLUMNS": "400"})
    assert res.exit_code == 0 and "not usable" not in res.stdout and " Wh" in res.stdout
