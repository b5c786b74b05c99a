"""A summary whose carbon options name one zone and whose emissions were priced in another
(a damaged record: both are written from one choice) is priced in its emissions' zone by
``report``, said in a note, as every other output shows its emissions ("report" priced
it in the options' zone, without a word, beside the block's figure everywhere else)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from tests._damage import edit_summary, tracked_run
from wattwise.carbon.recorded_options import zones_apart
from wattwise.cli import _register_all, app

_register_all()
pytestmark = pytest.mark.usefixtures("no_ambient_zone")


def _cli(db: Path, *args: str) -> Any:
    r = CliRunner().invoke(app, [*args, "--db", str(db)])
    assert r.exit_code == 0, r.output
    return r


@pytest.mark.parametrize("damage", ["options", "emissions unusable"])
def test_every_output_prices_it_in_its_emissions_zone(tmp_path: Path, damage: str) -> None:
    from wattwise.server import create_app

    db = tmp_path / "r.db"
    rid = tracked_run(db, zone="DE")

    def change(s: dict[str, Any]) -> None:
        s["carbon_options"]["zone"] = "FR"
        if damage == "emissions unusable":
            s["emissions"]["emissions_g"] = "x"  # priced again by every output

    edit_summary(db, rid, change)
    report = json.loads(_cli(db, "report", str(rid), "--json").stdout)
    grams = report["emissions"]["emissions_g"]
    assert report["emissions"]["zone"] == "DE"
    assert any("its emissions were priced in DE" in n for n in report["emissions"]["notes"])
    shown = json.loads(_cli(db, "show", str(rid), "--json").stdout)
    assert shown["figures"]["emissions_g"] == pytest.approx(grams, rel=1e-9)
    with TestClient(create_app(db), base_url="http://127.0.0.1") as client:
        (row,) = client.get("/api/runs").json()["runs"]
        metrics = client.get("/metrics").text
    assert row["emissions_g"] == pytest.approx(grams, rel=1e-9)
    got = re.search(r'wattwise_run_emissions_grams\{run_id="1",zone="(\w+)"\} (\S+)', metrics)
    assert got is not None and got.group(1) == "DE"
    assert float(got.group(2)) == pytest.approx(grams, rel=1e-9)
    # a zone given now prices there, without the note
    fr = json.loads(_cli(db, "report", str(rid), "--json", "--zone", "FR").stdout)
    assert fr["emissions"]["zone"] == "FR"
    assert not any("its emissions were priced in" in n for n in fr["emissions"]["notes"])


@pytest.mark.parametrize(("recorded", "priced", "apart"), [
    ("FR", "DE", True), ("de", "DE", False), ("DE", "DE", False), (None, "DE", False),
    ("FR", "WORLD", False), ("FR", "ZZ-NOWHERE", False), ("US-CAMX", "US", True),
])
def test_zones_apart(recorded: Any, priced: Any, apart: bool) -> None:
    assert (zones_apart(recorded, priced) is not None) == apart
