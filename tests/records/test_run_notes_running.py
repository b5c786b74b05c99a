"""A run still recording that has stored no sample of a domain it counts yet (its first
batch comes after one sampling interval) is said to be so in every output, not to be a
run without a figure ("no final summary (the run did not finish cleanly)")."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

import wattwise
from tests._cli_out import cli_out as _out
from tests.fixtures.fake_sensors import ConstantPowerSensor
from wattwise.cli import app
from wattwise.records.run_notes import NO_COUNTED_SAMPLE, NO_SAMPLE_YET
from wattwise.records.store import Store
from wattwise.server.data import run_payload, timeline_payload

pytestmark = pytest.mark.usefixtures("no_ambient_zone")


def test_a_run_before_its_first_sample_is_said_to_be_recording(tmp_path: Path) -> None:
    db = tmp_path / "r.db"
    d = str(db)
    sensor = ConstantPowerSensor({"cpu:0": 4.0})
    with wattwise.track("t", db=db, sensors=[sensor], interval_s=60, zone="DE") as run:
        time.sleep(0.2)
        rid = str(run.run_id)
        notes = {
            "show": json.loads(_out("show", rid, "--db", d, "--json"))["notes"],
            "runs": json.loads(_out("runs", "--db", d, "--json"))[0]["notes"],
            "export": json.loads(_out("export", rid, "-f", "json", "--db", d))["notes"],
            "report": [json.loads(_out("report", rid, "--db", d, "--json"))["energy_note"]],
        }
        with Store(db, readonly=True) as store:
            notes["api"] = run_payload(store, int(rid))["notes"]
            notes["timeline"] = timeline_payload(store, int(rid))["notes"]
        cc = CliRunner().invoke(app, ["export", rid, "-f", "codecarbon", "--db", d]).stderr
        notes["codecarbon"] = [line for line in cc.splitlines() if "left empty" in line][:1]
        notes["csv"] = CliRunner().invoke(app, ["export", rid, "-f", "csv", "--db", d]
                                          ).stderr.splitlines()
        text = " ".join(_out("show", rid, "--db", d).split())
        said = " ".join(_out("report", rid, "--db", d).split())
    for where, got in notes.items():
        assert any(NO_SAMPLE_YET in n for n in got), (where, got)
        assert not any(NO_COUNTED_SAMPLE in n for n in got), (where, got)
    assert NO_SAMPLE_YET in text and "did not finish cleanly" not in text, text
    assert "not usable" not in said and NO_SAMPLE_YET in said, said
    # once it has ended, its summary is its figure: nothing is said to be recording
    assert NO_SAMPLE_YET not in json.loads(_out("show", rid, "--db", d, "--json"))["notes"]
