"""``wattwise report`` says a damaged stored total once, in the words ``show`` gives it:
pricing is not handed the damaged value, so it adds no second note of the same value
("... are not usable and are left out ..." or "... were not from 0 to 1e+15 J ...")."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from tests.fixtures.damaged import stored_figures
from tests.server._runs import fixture_db
from wattwise.cli import _register_all, app

_register_all()
runner = CliRunner()


@pytest.mark.parametrize(("stored", "why"), [
    ("abc", "not a number (stored as 'abc')"),
    (math.inf, "not a finite number (stored as inf)"),
    (-math.inf, "not a finite number (stored as -inf)"),
    (-5.0, "negative (-5 J)"),
    (2e15, "implausibly large (2e+15 J, more than 1e+15 J)"),
    (1e308, "implausibly large (1e+308 J, more than 1e+15 J)"),
])
def test_one_damaged_total_one_note(tmp_path: Path, stored: Any, why: str) -> None:
    db = tmp_path / "runs.db"
    rid = str(fixture_db(db)["smaller"])
    stored_figures(db, int(rid), energy_j=stored, low_j=10.0, high_j=30.0)
    note = f"the stored energy is not usable: {why}: a damaged record"
    res = runner.invoke(app, ["report", rid, "--db", str(db), "--json"])
    assert res.exit_code == 0, res.output
    notes = json.loads(res.stdout)["emissions"]["notes"]
    assert [n for n in notes if "energy_j" in n or "usable" in n] == [note], notes
    res = runner.invoke(app, ["report", rid, "--db", str(db)], env={"COLUMNS": "400"})
    said = " ".join(res.stdout.split())
    assert res.exit_code == 0 and said.count("note: ") >= 1, res.output
    assert said.count("the stored energy is not usable") == 1, said
    assert "left out of the pricing" not in said, said
    shown = runner.invoke(app, ["show", rid, "--db", str(db)], env={"COLUMNS": "400"})
    assert f"note: {note}" in " ".join(shown.stdout.split())  # the same words as `show`
