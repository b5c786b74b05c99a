"""A run whose recorded carbon options and stored emissions disagree on the PUE (one of
them edited since): ``report`` priced at the options' PUE (0.002196 g at 1.37) while every
other output gave the stored one (0.001844 g at 1.15), with no note. It now prices at the
stored one, as the others show it, and says so."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests._damage import edit_summary, tracked_run
from wattwise.cli import _register_all, app
from wattwise.records.judged_stored import pue_apart

pytestmark = pytest.mark.usefixtures("no_ambient_zone")
SAID = ("the run's recorded options give PUE 1.37 and its stored emissions were priced at "
        "PUE 1: priced at 1, as every other output shows it (a damaged record)")


def test_pue_apart_reads_options_and_block() -> None:
    block = {"emissions_g": 1.0, "pue": 1.15, "zone": "aws:eu-west-1"}
    assert pue_apart({"emissions": block, "carbon_options": {"pue": 1.15}}) is None
    # no PUE in the options: the zone's own, from the table of the day it was recorded
    # (a figure the table has changed since is no damage)
    assert pue_apart({"emissions": {**block, "pue": 1.2},
                      "carbon_options": {"pue": None, "zone": "aws:eu-west-1"}}) is None
    assert pue_apart({"emissions": block}) is None  # no options recorded: nothing to compare
    said = pue_apart({"emissions": block, "carbon_options": {"pue": 1.37}})
    assert said is not None and said.startswith("the run's recorded options give PUE 1.37")


def test_report_prices_at_the_stored_pue_and_says_why(tmp_path: Path) -> None:
    _register_all()
    db = tmp_path / "runs.db"
    rid = tracked_run(db)
    edit_summary(db, rid, lambda s: s["carbon_options"].update(pue=1.37))

    def out(*args: str) -> dict:
        got = CliRunner().invoke(app, [*args, str(rid), "--db", str(db), "--json"])
        assert got.exit_code == 0, got.output
        return json.loads(got.stdout)

    shown, reported = out("show"), out("report")
    assert reported["emissions"]["pue"] == 1.0
    assert reported["emissions"]["emissions_g"] == pytest.approx(
        shown["summary"]["emissions"]["emissions_g"], rel=1e-9)
    text = CliRunner().invoke(app, ["report", str(rid), "--db", str(db)],
                              env={"COLUMNS": "400"}).stdout
    assert SAID in " ".join(text.split()), text
    # --pue prices it at the given PUE, without the note
    given = CliRunner().invoke(app, ["report", str(rid), "--db", str(db), "--pue", "1.2"],
                               env={"COLUMNS": "400"}).stdout
    assert "PUE 1.2" in given and "recorded options give" not in given


def test_a_new_zone_with_another_pue_names_the_recorded_one(tmp_path: Path) -> None:
    """A cloud run (AWS's 1.15) priced at --zone DE (1): its PUE fell, and the note named
    only the zone."""
    _register_all()
    db = tmp_path / "runs.db"
    rid = tracked_run(db, zone="aws:eu-west-1")

    def note(zone: str) -> str:
        got = CliRunner().invoke(app, ["report", str(rid), "--db", str(db), "--zone", zone],
                                 env={"COLUMNS": "400"})
        assert got.exit_code == 0, got.output
        return next(line for line in got.stdout.splitlines()
                    if line.startswith("note: priced at"))

    assert note("DE") == "note: priced at DE (--zone), recorded with aws:eu-west-1, PUE 1.15"
    assert note("aws:us-east-1") == \
        "note: priced at aws:us-east-1 (--zone), recorded with aws:eu-west-1"  # PUE the same


def test_the_note_names_the_recorded_pue_whatever_changes_it(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The same change of PUE was named only where the zone came from --zone: not from
    $WATTWISE_ZONE, nor where --pue replaced a PUE the run took from its zone (1.15), and
    --pue 1.15 on such a run was said to change it."""
    _register_all()
    db = tmp_path / "runs.db"
    world, cloud = tracked_run(db, zone=None), tracked_run(db, zone="aws:eu-west-1")

    def note(rid: int, *args: str) -> str | None:
        got = CliRunner().invoke(app, ["report", str(rid), "--db", str(db), *args],
                                 env={"COLUMNS": "400"})
        assert got.exit_code == 0, got.output
        return next((line for line in got.stdout.splitlines()
                     if line.startswith("note: priced at")), None)

    assert note(cloud, "--pue", "1.3") == \
        "note: priced at PUE 1.3 (--pue), recorded with aws:eu-west-1, PUE 1.15"
    assert note(cloud, "--pue", "1.15") is None  # nothing changed
    assert note(world, "--zone", "aws:us-east-1") == \
        "note: priced at aws:us-east-1 (--zone), recorded at the world average, PUE 1"
    monkeypatch.setenv("WATTWISE_ZONE", "aws:us-east-1")
    assert note(world) == ("note: priced at aws:us-east-1 (from $WATTWISE_ZONE), recorded "
                           "at the world average, PUE 1")


def test_a_damaged_pue_priced_elsewhere_is_said_as_priced(tmp_path: Path) -> None:
    """Options 1.37 against stored emissions at 1.15: ``--zone DE`` printed "PUE 1" beside
    the note "priced at 1.15", and ``--pue 1.3`` called the options' 1.37 the recorded
    PUE, where every other output gives 1.15."""
    _register_all()
    db = tmp_path / "runs.db"
    rid = tracked_run(db, zone="aws:eu-west-1")
    edit_summary(db, rid, lambda s: s["carbon_options"].update(pue=1.37))

    def report(*args: str) -> tuple[float, list[str]]:
        got = CliRunner().invoke(app, ["report", str(rid), "--db", str(db), "--json", *args])
        assert got.exit_code == 0, got.output
        em = json.loads(got.stdout)["emissions"]
        return em["pue"], em["notes"]

    pue, notes = report("--zone", "DE")
    assert pue == 1.0
    assert not any("priced at 1.15" in n for n in notes), notes
    assert ("the run's recorded options give PUE 1.37 and its stored emissions were priced "
            "at PUE 1.15: 1.15 taken as recorded, as every other output shows it (a damaged "
            "record)") in notes
    assert "priced at DE (--zone), recorded with aws:eu-west-1, PUE 1.15" in notes
    pue, notes = report("--pue", "1.3")
    assert pue == 1.3
    assert "priced at PUE 1.3 (--pue), recorded with aws:eu-west-1, PUE 1.15" in notes, notes


def test_the_recorded_zone_given_again_is_priced_at_the_stored_pue(tmp_path: Path) -> None:
    _register_all()
    db = tmp_path / "runs.db"
    rid = tracked_run(db, zone="aws:eu-west-1")
    edit_summary(db, rid, lambda s: s["carbon_options"].update(pue=1.37))
    got = CliRunner().invoke(app, ["report", str(rid), "--db", str(db), "--json", "--zone",
                                   "aws:eu-west-1"])
    assert got.exit_code == 0, got.output
    em = json.loads(got.stdout)["emissions"]
    assert em["pue"] == 1.15
    assert ("the run's recorded options give PUE 1.37 and its stored emissions were priced "
            "at PUE 1.15: priced at 1.15, as every other output shows it (a damaged "
            "record)") in em["notes"], em["notes"]
