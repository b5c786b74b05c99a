"""A lost run started with no zone (its carbon options an empty object) is priced at the
world average, said once in every output: "priced at the world average, as the run was
started with no zone", without the zone choice's "no zone set" beside it (both were
printed, while a run started without carbon options got the second alone)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from wattwise.carbon.recorded_options import STARTED_WITHOUT_ZONE, said_once
from wattwise.cli import _register_all, app
from wattwise.records.store import SampleRow, Store

_register_all()
pytestmark = pytest.mark.usefixtures("no_ambient_zone")

DEAD = 2**22 + 9  # above Linux's largest pid: no such process
UNSET = "no zone set, so the world average is used"


def _lost(db: Path) -> int:
    with Store(db) as store:
        rid = store.create_run(
            name="killed", started_unix_s=1_760_000_000.0, pid=DEAD, hardware={},
            versions={}, host={"hostname": "lab", "carbon_options": {}},
            sensors=[{"name": "model", "domains": [
                {"name": "cpu:model", "kind": "estimated", "source": "model",
                 "in_total": True}]}])
        store.add_samples(rid, [SampleRow(1_760_000_000.0 + k, "cpu:model", 30.0, 30.0,
                                          25.0, 35.0) for k in range(1, 11)])
    return rid


def test_every_output_says_it_once(tmp_path: Path) -> None:
    from wattwise.server import create_app

    db = tmp_path / "r.db"
    rid = _lost(db)
    said: dict[str, str] = {}
    for args in (["show"], ["report"], ["report", "--json"], ["show", "--json"],
                 ["export", "-f", "codecarbon"], ["export"]):
        r = CliRunner().invoke(app, [args[0], str(rid), *args[1:], "--db", str(db)])
        assert r.exit_code == 0, r.output
        said[" ".join(args)] = " ".join(r.output.split())
    with TestClient(create_app(db), base_url="http://127.0.0.1") as client:
        said["/api/runs/ID"] = json.dumps(client.get(f"/api/runs/{rid}").json())
    for where, text in said.items():
        assert STARTED_WITHOUT_ZONE in text, where
        assert UNSET not in text, (where, text)


def test_said_once_keeps_the_zone_choice_where_nothing_else_says_it() -> None:
    unset = f"{UNSET}; set a zone with --zone"
    assert said_once(["a", unset, "a"]) == ["a", unset]
    assert said_once([f"priced at {STARTED_WITHOUT_ZONE} (x)", unset]) == [
        f"priced at {STARTED_WITHOUT_ZONE} (x)"]
