"""A stored total whose range has its low above its high is a damaged record in every
output, as one with a bound that is not a number: "not usable", its samples' sum given in
its place, never "29.5 J (48.0-22.9)" as a reading."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

import wattwise
from tests._damage import edit_summary
from tests.fixtures.fake_sensors import ConstantPowerSensor
from wattwise.cli import _register_all, app

_register_all()
pytestmark = pytest.mark.usefixtures("no_ambient_zone")

WHY = "the stored energy is not usable: stored with a range whose low is above its high"


def _cli(db: Path, *args: str) -> Any:
    r = CliRunner().invoke(app, [*args, "--db", str(db)])
    assert r.exit_code == 0, r.output
    return r


def test_a_reversed_range_is_a_damaged_total_everywhere(tmp_path: Path) -> None:
    from wattwise.server import create_app

    db = tmp_path / "r.db"
    ids = []
    for _ in range(2):
        with wattwise.track("job", db=db, zone="DE", interval_s=0.05, sensors=[
                ConstantPowerSensor({"cpu:package": 40.0}, kind="estimated", spread=0.25)]
                            ) as run:
            time.sleep(0.3)
        assert run.flush() and run.run_id is not None
        ids.append(int(run.run_id))
    rid = ids[0]
    edit_summary(db, rid, lambda s: s.update(low_j=s["high_j"], high_j=s["low_j"]))
    ref = str(rid)
    shown = json.loads(_cli(db, "show", ref, "--json").stdout)["figures"]
    assert shown["energy_note"].startswith(WHY), shown
    reported = json.loads(_cli(db, "report", ref, "--json").stdout)
    assert shown["energy_j"] == pytest.approx(reported["energy_j"], rel=1e-9)
    assert shown["low_j"] <= shown["energy_j"] <= shown["high_j"]
    text = " ".join(_cli(db, "show", ref).output.split())
    assert f"note: {WHY}" in text, text
    (listed,) = [r for r in json.loads(_cli(db, "runs", "--json").stdout) if r["id"] == rid]
    assert listed["figures"]["energy_note"].startswith(WHY), listed
    with TestClient(create_app(db), base_url="http://127.0.0.1") as client:
        run = client.get(f"/api/runs/{rid}").json()["run"]
        assert run["figures"]["energy_note"].startswith(WHY)
        rows = client.get("/api/runs?sort=energy&order=desc&all_notes=true").json()["runs"]
    # not ranked on its stored figure: after the sound run, whatever the order
    assert [r["id"] for r in rows] == [ids[1], rid], rows
