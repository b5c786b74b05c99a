"""``wattwise report`` of a run whose stored total energy is not usable
(``records.stored_energy``) prices the samples' figure and says why, in the words
``show`` and the dashboard's API use: never the damaged figure as the run's energy."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from tests.fixtures.damaged import whole_total
from tests.server._runs import fixture_db
from wattwise.cli import _register_all, app

_register_all()
runner = CliRunner()


def _stored(db: Path, rid: int, energy_j: Any) -> None:
    with sqlite3.connect(db) as conn:
        summary = json.loads(conn.execute("SELECT summary_json FROM runs WHERE id = ?",
                                          (rid,)).fetchone()[0])
        summary.update(energy_j=energy_j, low_j=10.0, high_j=30.0)
        conn.execute("UPDATE runs SET summary_json = ? WHERE id = ?",
                     (json.dumps(summary), rid))


def _report(db: Path, rid: int) -> dict[str, Any]:
    res = runner.invoke(app, ["report", str(rid), "--db", str(db), "--json"])
    assert res.exit_code == 0, res.output
    out: dict[str, Any] = json.loads(res.stdout)
    return out


@pytest.mark.parametrize(("stored", "why"), [
    (9.99e14, "outside its own range (9.99e+14 J, range 10-30 J)"),
    (200.0, "outside its own range (200 J, range 10-30 J)"),
    (0.0, "outside its own range (0 J, range 10-30 J)"),
    (True, "not a number (stored as 'true')"),
    ("abc", "not a number (stored as 'abc')"),
    (-5.0, "negative (-5 J)"),
])
def test_report_prices_the_samples_and_says_the_total_is_not_usable(
        tmp_path: Path, stored: Any, why: str) -> None:
    db = tmp_path / "runs.db"
    rid = fixture_db(db)["smaller"]
    _stored(db, rid, None)  # no stored total: the samples' figure
    samples_j = _report(db, rid)["energy_j"]
    _stored(db, rid, stored)
    note = f"the stored energy is not usable: {why}: a damaged record"
    out = _report(db, rid)
    assert out["energy_j"] == pytest.approx(samples_j, rel=1e-12)
    assert note in out["emissions"]["notes"]
    if isinstance(stored, bool) or (isinstance(stored, float) and 0 <= stored <= 1e15):
        # one note, the one ``show`` gives (not "not finite numbers" of a ``true``)
        assert [n for n in out["emissions"]["notes"] if "energy_j" in n or "usable" in n] \
            == [note]
    res = runner.invoke(app, ["report", str(rid), "--db", str(db)])
    assert res.exit_code == 0, res.output
    assert f"note: {note}" in " ".join(res.stdout.split()), res.stdout


def test_report_of_a_usable_total_has_no_such_note(tmp_path: Path) -> None:
    db = tmp_path / "runs.db"
    rid = fixture_db(db)["smaller"]
    whole_total(db, rid, 20.0, 10.0, 30.0)
    out = _report(db, rid)
    assert out["energy_j"] == pytest.approx(20.0)
    assert not any("not usable" in n for n in out["emissions"]["notes"])
