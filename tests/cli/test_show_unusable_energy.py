"""``wattwise show`` of a run whose stored total energy is not usable says why, in the
words of the dashboard's API (``/api/runs/ID`` notes), never a bare "-" or figure."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from tests.fixtures.damaged import stored_figures
from tests.server._runs import fixture_db
from wattwise.cli import _register_all, app
from wattwise.records.store import Store
from wattwise.server.data import run_payload

_register_all()
runner = CliRunner()


@pytest.mark.parametrize(("stored", "why"), [
    ("abc", "not a number (stored as 'abc')"),
    (-5.0, "negative (-5 J)"),
    (float("inf"), "not a finite number (stored as inf)"),
    (6.0, "outside its own range (6 J, range 10-30 J)"),
])
def test_show_says_why_a_stored_total_is_not_usable(
        tmp_path: Path, stored: Any, why: str) -> None:
    db = tmp_path / "runs.db"
    rid = fixture_db(db)["smaller"]
    stored_figures(db, rid, energy_j=stored, low_j=10.0, high_j=30.0)
    note = f"the stored energy is not usable: {why}: a damaged record"
    res = runner.invoke(app, ["show", str(rid), "--db", str(db)])
    assert res.exit_code == 0, res.output
    assert f"note: {note}" in " ".join(res.stdout.split()), res.stdout
    res = runner.invoke(app, ["show", str(rid), "--db", str(db), "--json"])
    assert res.exit_code == 0, res.output
    with Store(db, readonly=True) as store:
        api = run_payload(store, rid)["notes"]
    assert json.loads(res.stdout)["notes"] == [note] and note in api


def test_show_of_a_usable_total_has_no_such_note(tmp_path: Path) -> None:
    db = tmp_path / "runs.db"
    rid = fixture_db(db)["smaller"]
    res = runner.invoke(app, ["show", str(rid), "--db", str(db)])
    assert res.exit_code == 0 and "not usable" not in res.stdout, res.output
    res = runner.invoke(app, ["show", str(rid), "--db", str(db), "--json"])
    assert json.loads(res.stdout)["notes"] == []
