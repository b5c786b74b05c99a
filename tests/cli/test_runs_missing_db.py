"""``wattwise runs`` with ``$WATTWISE_DB`` naming no database: it said "no runs recorded
yet", exit 0, where the same path given as ``--db`` is an error (exit 2): a typo in the
variable read as an empty history. The user data folder's database, not yet made, is
still no runs yet."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from wattwise.cli import _register_all, app


@pytest.mark.parametrize("given", ["env", "option"])
def test_a_named_database_that_is_not_there_is_an_error(tmp_path: Path, given: str) -> None:
    _register_all()
    db = tmp_path / "nothere.db"
    args, env = (["runs"], {"WATTWISE_DB": str(db)}) if given == "env" \
        else (["runs", "--db", str(db)], {"WATTWISE_DB": None})
    r = CliRunner().invoke(app, args, env=env)
    lines = [x for x in r.output.splitlines() if x.strip()]
    assert r.exit_code == 2 and len(lines) == 1, r.output
    assert f"no run database at {db}" in lines[0]
    assert not db.exists()


def test_the_default_database_not_yet_made_is_no_runs_yet(tmp_path: Path) -> None:
    _register_all()
    r = CliRunner().invoke(app, ["runs"], env={"WATTWISE_DB": None,
                                               "XDG_DATA_HOME": str(tmp_path / "share")})
    assert r.exit_code == 0, r.output
    assert "no runs recorded yet" in r.output
