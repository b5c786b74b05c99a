"""A damaged run recorded without emissions gets none from any output but ``report``
(which prices it, as the note says), as a sound run recorded without them: its energy is
priced again from its samples, its grams are not made up in the JSON outputs and /metrics
while the pages show none."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests._cli_out import cli_out, recorded
from tests._damage import edit_summary
from wattwise.cli import _register_all
from wattwise.records.run_sums import NOT_RECORDED
from wattwise.server import create_app

_register_all()

pytestmark = pytest.mark.usefixtures("no_ambient_zone")


def _without_emissions(s: dict[str, Any]) -> None:
    s.pop("emissions")
    s["energy_j"] = "text"


def test_no_grams_are_made_up_for_it(tmp_path: Path) -> None:
    db = tmp_path / "r.db"
    rid = recorded(db)
    edit_summary(db, rid, _without_emissions)
    shown = json.loads(cli_out("show", str(rid), "--db", str(db), "--json"))["figures"]
    listed = json.loads(cli_out("runs", "--db", str(db), "--json"))[0]["figures"]
    assert shown["energy_j"] > 0 and shown["energy_j"] == listed["energy_j"]
    assert shown["emissions_g"] is None and listed["emissions_g"] is None
    assert shown["emissions_note"] == NOT_RECORDED == listed["emissions_note"]
    with TestClient(create_app(db, port=8787), base_url="http://127.0.0.1:8787") as c:
        row = c.get("/api/runs").json()["runs"][0]
        one = c.get(f"/api/runs/{rid}").json()["run"]["figures"]
        metrics = c.get("/metrics").text
    assert row["emissions_g"] is None and one["emissions_g"] is None
    assert row["energy_j"] == shown["energy_j"] == one["energy_j"]
    grams = [line for line in metrics.splitlines()
             if line.startswith(("wattwise_emissions_grams", "wattwise_run_emissions_grams"))]
    assert not [line for line in grams if float(line.rsplit(" ", 1)[1]) > 0], grams
    reported = json.loads(cli_out("report", str(rid), "--db", str(db), "--json"))
    assert reported["emissions"]["emissions_g"] > 0  # report prices it, as the note says


@pytest.mark.parametrize("damage", ["none", "text", "-5"])
def test_show_s_text_says_it_was_recorded_without_emissions(tmp_path: Path,
                                                            damage: str) -> None:
    """``show`` printed its domains and no emissions line where its summary holds them,
    sound or damaged, while every other output gave the note."""
    db = tmp_path / "r.db"
    rid = recorded(db)

    def edit(s: dict[str, Any]) -> None:
        s.pop("emissions")
        if damage != "none":
            s["energy_j"] = damage if damage == "text" else float(damage)

    edit_summary(db, rid, edit)
    text = cli_out("show", str(rid), "--db", str(db))
    assert text.count(f"emissions: none: {NOT_RECORDED}") == 1, text


@pytest.mark.parametrize("stored", ["x", 1.5])
def test_show_s_text_gives_a_no_domains_run_s_damaged_emissions_note(
        tmp_path: Path, stored: object) -> None:
    """A damaged total without domains is priced from its samples in ``show``'s text
    too; the note on its stored emissions, which every other output gives, was left out."""
    db = tmp_path / "r.db"
    rid = recorded(db)

    def edit(s: dict[str, Any]) -> None:
        s.clear()
        s.update(energy_j="text", emissions={"emissions_g": stored})

    edit_summary(db, rid, edit)
    note = json.loads(cli_out("show", str(rid), "--db", str(db), "--json")
                      )["figures"]["emissions_note"]
    assert note and note.startswith("the stored emissions are not usable"), note
    text = cli_out("show", str(rid), "--db", str(db))
    assert text.count(note) == 1, (note, text)
