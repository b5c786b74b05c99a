"""``wattwise show`` and ``runs`` of a run whose stored total is not usable give the figure
every other output gives for it (``show --json``'s figures: its samples priced again, as
``wattwise report`` gives it) beside the note, in the words of the dashboard's run page."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from tests.fixtures.damaged import stored_figures
from tests.server._runs import fixture_db
from wattwise.cli import _register_all, app
from wattwise.measure.results import fmt_joules

_register_all()
runner = CliRunner()


def _cell(table: str, first: str, column: int) -> str:
    """Column ``column`` of the table row whose first cell is ``first``, its wrapped lines
    joined (a row goes on while its first cell is blank)."""
    rows = [line.split("│") for line in table.splitlines() if line.startswith("│")]
    start = next(i for i, c in enumerate(rows) if c[1].strip() == first)
    end = next((i for i in range(start + 1, len(rows)) if rows[i][1].strip()), len(rows))
    return " ".join(" ".join(c[column].split()) for c in rows[start:end])


def test_show_and_runs_give_the_repriced_figure_with_the_note(tmp_path: Path) -> None:
    db = tmp_path / "runs.db"
    rid = fixture_db(db)["smaller"]
    stored_figures(db, rid, energy_j=-5.0, low_j=10.0, high_j=30.0)
    res = runner.invoke(app, ["show", str(rid), "--db", str(db), "--json"])
    figures = json.loads(res.stdout)["figures"]
    e, note = figures["energy_j"], figures["energy_note"]
    assert isinstance(e, float) and e > 0 and note.startswith("the stored energy is not usable")
    said = f"{fmt_joules(e)} (from its samples, as wattwise report gives it) {note}"
    res = runner.invoke(app, ["show", str(rid), "--db", str(db)], env={"COLUMNS": "400"})
    assert res.exit_code == 0, res.output
    assert _cell(res.stdout, "total", 2).startswith(
        f"{fmt_joules(e)} (from its samples, as wattwise report gives it; the note below says why)")
    assert " ".join(res.stdout.split()).count(f"note: {note}") == 1, res.stdout
    res = runner.invoke(app, ["runs", "--db", str(db), "--limit", "100"],
                        env={"COLUMNS": "600"})
    assert res.exit_code == 0, res.output
    assert said in _cell(res.stdout, str(rid), 6)
