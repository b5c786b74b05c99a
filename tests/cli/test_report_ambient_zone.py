"""``report`` with a ``$WATTWISE_ZONE`` that names no zone: a run recorded in DE, which
the variable never prices, was refused (exit 2) where ``show`` read it; a run recorded at
the world average, which it would price, is still refused in one line."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests._damage import tracked_run
from wattwise.cli import _register_all, app

pytestmark = pytest.mark.usefixtures("no_ambient_zone")


def test_a_bad_ambient_zone_is_refused_only_where_it_prices(tmp_path: Path) -> None:
    _register_all()
    db = tmp_path / "runs.db"
    de, world = tracked_run(db, zone="DE"), tracked_run(db, zone=None)  # type: ignore[arg-type]
    env = {"WATTWISE_ZONE": "bogus", "COLUMNS": "200"}
    ok = CliRunner().invoke(app, ["report", str(de), "--db", str(db)], env=env)
    assert ok.exit_code == 0, ok.output
    assert "zone DE" in ok.output
    refused = CliRunner().invoke(app, ["report", str(world), "--db", str(db)], env=env)
    lines = [x for x in refused.output.splitlines() if x.strip()]
    assert refused.exit_code == 2 and len(lines) == 1, refused.output
    assert "unknown zone 'bogus'" in lines[0]
    given = CliRunner().invoke(app, ["report", str(de), "--db", str(db), "--zone", "bogus"])
    assert given.exit_code == 2, given.output
