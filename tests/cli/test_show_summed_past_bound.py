"""The text ``show`` and ``runs`` give no figure for a run whose samples, each usable,
sum past what one run may hold (``stored_energy.summed_energy_note``): the note, as
every other output gives it, and no reading beside it."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from tests.records.test_record_agreement import _lost_db
from wattwise.cli import _register_all, app

_register_all()


def _out(*args: str) -> str:
    result = CliRunner().invoke(app, list(args), catch_exceptions=False, env={"COLUMNS": "500"})
    assert result.exit_code == 0, result.output
    return " ".join(result.output.split())


def test_show_and_runs_give_the_note_and_no_figure(tmp_path: Path) -> None:
    e = 999999999999999.9
    db, rid = _lost_db(tmp_path, [(0.01, e, e, e), (0.02, e, e, e)])
    shown = _out("show", str(rid), "--db", str(db))
    assert "energy: not usable (" in shown
    assert "the summed energy is not usable: implausibly large" in shown
    listed = _out("runs", "--db", str(db))
    assert "not usable: the summed energy is not" in listed  # the cell wraps
    for text in (shown, listed):
        assert "2e+15 J (" not in text and "2000000000000000" not in text
