"""``wattwise report --json`` of a run whose stored total is not usable gives the samples'
figure as ``energy_j`` with the note ``show`` prints as its top-level ``energy_note``: a
reader of ``energy_j`` sees at once that it is not the stored total."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from tests.fixtures.damaged import stored_figures, whole_total
from tests.server._runs import fixture_db
from wattwise.cli import _register_all, app

_register_all()
runner = CliRunner()


@pytest.mark.parametrize(("stored", "why"), [
    (float("inf"), "not a finite number (stored as inf)"),
    (None, "missing (stored as null)"),
    (9.99e14, "outside its own range (9.99e+14 J, range 10-30 J)"),
    (True, "not a number (stored as 'true')"),
])
def test_energy_note_says_the_stored_total_is_not_usable(
        tmp_path: Path, stored: Any, why: str) -> None:
    db = tmp_path / "runs.db"
    rid = fixture_db(db)["smaller"]
    stored_figures(db, rid, energy_j=stored, low_j=10.0, high_j=30.0)
    note = f"the stored energy is not usable: {why}: a damaged record"
    res = runner.invoke(app, ["report", str(rid), "--db", str(db), "--json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert out["energy_note"] == note, out["energy_note"]
    assert out["from_summary"] is False and out["partial"] is False
    shown = runner.invoke(app, ["show", str(rid), "--db", str(db)])
    assert shown.exit_code == 0, shown.output
    assert f"note: {note}" in " ".join(shown.stdout.split())  # the words ``show`` prints


def test_a_usable_total_has_no_energy_note(tmp_path: Path) -> None:
    db = tmp_path / "runs.db"
    rid = fixture_db(db)["smaller"]
    whole_total(db, rid, 20.0, 10.0, 30.0)
    res = runner.invoke(app, ["report", str(rid), "--db", str(db), "--json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert out["energy_j"] == pytest.approx(20.0)
    assert out["energy_note"] is None
