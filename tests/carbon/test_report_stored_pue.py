"""``report`` of a run its options give no PUE for prices at the PUE its stored emissions
were priced at, with their source, as ``show`` gives it: a run priced with the AWS table
of its day (1.2) was priced at today's (1.15), its grams apart from every other output's;
and a record keeping no source of its PUE was given one by ``report`` ("AWS sustainability
data-centre page") where ``show`` says "source not recorded"."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

import wattwise
from tests._damage import edit_summary
from tests.fixtures.fake_sensors import ConstantPowerSensor
from wattwise.cli import _register_all, app

pytestmark = pytest.mark.usefixtures("no_ambient_zone")
THEN = "AWS sustainability data-centre page (global PUE) (2022)"


def _run(db: Path, **options: Any) -> int:
    with wattwise.track("job", db=db, sensors=[ConstantPowerSensor({"cpu:package": 40.0})],
                        interval_s=0.05, **options) as run:
        time.sleep(0.3)
    assert run.flush() and run.run_id is not None
    return int(run.run_id)


def _as_an_older_table_priced_it(db: Path, rid: int) -> None:
    """The run's PUE (1.2) as AWS's table of its day gave it: no PUE in its options."""

    def older(s: dict[str, Any]) -> None:
        s["carbon_options"]["pue"] = None
        s["emissions"]["pue_source"] = THEN

    edit_summary(db, rid, older)


def _reported_at(db: Path, rid: int, zone: str) -> dict[str, Any]:
    """``report RID --zone ZONE --json``'s emissions."""
    _register_all()
    got = CliRunner().invoke(app, ["report", str(rid), "--db", str(db), "--zone", zone,
                                   "--json"])
    assert got.exit_code == 0, got.output
    return json.loads(got.stdout)["emissions"]  # type: ignore[no-any-return]


def _both(db: Path, rid: int) -> tuple[dict[str, Any], dict[str, Any], str, str]:
    _register_all()

    def out(*args: str) -> str:
        got = CliRunner().invoke(app, [*args, str(rid), "--db", str(db)],
                                 env={"COLUMNS": "400"})
        assert got.exit_code == 0, got.output
        return got.stdout

    shown = json.loads(out("show", "--json"))["summary"]["emissions"]
    reported = json.loads(out("report", "--json"))["emissions"]
    pue_line = [line.strip() for line in out("show").splitlines() if "PUE" in line]
    report_line = [line.strip() for line in out("report").splitlines() if "PUE" in line]
    return shown, reported, pue_line[0], report_line[0]


def test_a_pue_from_an_older_provider_table_is_the_stored_one(tmp_path: Path) -> None:
    db = tmp_path / "runs.db"
    rid = _run(db, zone="aws:eu-west-1", pue=1.2)

    _as_an_older_table_priced_it(db, rid)
    shown, reported, show_line, report_line = _both(db, rid)
    assert reported["pue"] == shown["pue"] == 1.2
    assert reported["emissions_g"] == shown["emissions_g"]
    assert reported["pue_source"] == THEN
    assert show_line == report_line == f"PUE 1.2: {THEN}"


def test_a_pue_without_a_recorded_source_is_said_so_alike(tmp_path: Path) -> None:
    db = tmp_path / "runs.db"
    rid = _run(db, zone="aws:eu-west-1")

    def bare(s: dict[str, Any]) -> None:
        del s["carbon_options"]
        del s["emissions"]["pue_source"]

    edit_summary(db, rid, bare)
    shown, reported, show_line, report_line = _both(db, rid)
    assert reported["pue"] == shown["pue"] == 1.15
    assert show_line == report_line == "PUE 1.15: source not recorded"
    assert reported["pue_source"] == "source not recorded"


@pytest.mark.parametrize(("zone", "pue"), [("gcp:europe-west1", 1.1), ("DE", 1.0),
                                           ("aws:us-east-1", 1.15), ("aws:cn-north-1", 1.56)])
def test_a_new_zone_takes_its_own_pue_not_the_stored_one(tmp_path: Path, zone: str,
                                                         pue: float) -> None:
    """The stored PUE of an older table (1.2) was carried to any --zone, said "set by the
    user"."""
    db = tmp_path / "runs.db"
    rid = _run(db, zone="aws:eu-west-1", pue=1.2)
    _as_an_older_table_priced_it(db, rid)
    em = _reported_at(db, rid, zone)
    assert em["pue"] == pue
    assert not em["pue_source"].startswith("set by the user")
    assert f"priced at {zone} (--zone), recorded with aws:eu-west-1, PUE 1.2" in em["notes"]
    assert _reported_at(db, rid, "aws:eu-west-1")["pue"] == 1.2  # the recorded zone: kept


@pytest.mark.parametrize("given", [" aws:eu-west-1 ", "aws :eu-west-1", "aws: eu-west-1",
                                   " AWS:EU-WEST-1 "])
@pytest.mark.parametrize("recorded", ["aws:eu-west-1", " aws:eu-west-1 "])
def test_the_recorded_zone_however_written_is_the_recorded_zone(
        tmp_path: Path, given: str, recorded: str) -> None:
    """Compared as typed, 'aws :eu-west-1' (which resolves to the recorded zone) and a
    zone recorded padded were taken for other zones: the stored PUE dropped."""
    db = tmp_path / "runs.db"
    rid = _run(db, zone=recorded, pue=1.2)
    _as_an_older_table_priced_it(db, rid)
    em = _reported_at(db, rid, given)
    assert em["pue"] == 1.2
    assert not any(n.startswith("priced at ") for n in em["notes"]), em["notes"]


def test_same_zone() -> None:
    from wattwise.carbon.zones import same_zone

    assert same_zone("aws :eu-west-1", "aws:eu-west-1") and same_zone(" de ", "DE")
    assert not same_zone("DE", "FR") and not same_zone(None, "DE")
    assert same_zone("nowhere", " NOWHERE ")  # unknown text: as text
