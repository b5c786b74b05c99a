"""``show`` says of a stored emissions block's zone that wattwise does not know that it is
not usable, and why, as CodeCarbon's columns say it: it printed the zone as a reading
beside ``report``'s line, which prices in the run's carbon options' zone."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests._damage import edit_summary, tracked_run
from wattwise.cli import _register_all, app

_register_all()
pytestmark = pytest.mark.usefixtures("no_ambient_zone")


@pytest.mark.parametrize(("zone", "said"), [
    ("ZZ-NOWHERE", "zone ZZ-NOWHERE (not usable: unknown zone 'ZZ-NOWHERE'"),
    ("DE", "zone DE, yearly-average")])
def test_show_says_a_zone_it_does_not_know(tmp_path: Path, zone: str, said: str) -> None:
    db = tmp_path / "r.db"
    rid = tracked_run(db)
    edit_summary(db, rid, lambda s: s["emissions"].update(zone=zone))
    r = CliRunner().invoke(app, ["show", str(rid), "--db", str(db)])
    assert r.exit_code == 0, r.output
    assert said in " ".join(r.stdout.split()), r.stdout
