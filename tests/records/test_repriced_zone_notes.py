"""A run priced again (its stored total or emissions not usable) whose recorded zone is
not usable (an unknown zone) is priced at the world average, and every output says why
in one note, as ``report`` does; none says "no zone set" of a run that recorded one."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from tests._damage import edit_summary, tracked_run
from wattwise.cli import _register_all, app

_register_all()
pytestmark = pytest.mark.usefixtures("no_ambient_zone")

SET_ASIDE = "the run's recorded zone is not usable: unknown zone 'XX'"
INSTEAD = "a damaged record; priced at the world average instead"



def _cli(db: Path, *args: str) -> Any:
    r = CliRunner().invoke(app, [*args, "--db", str(db)])
    assert r.exit_code == 0, r.output
    return r


def _every_output(db: Path, rid: int) -> dict[str, list[str]]:
    from wattwise.server import create_app

    ref = str(rid)
    report = _cli(db, "report", ref)
    with TestClient(create_app(db), base_url="http://127.0.0.1") as client:
        api = client.get(f"/api/runs/{rid}").json()["notes"]
        row = next(r for r in client.get("/api/runs").json()["runs"] if r["id"] == rid)
    return {
        "report": [ln for ln in " ".join(report.output.split()).split("note: ")],
        "show": " ".join(_cli(db, "show", ref).output.split()).split("note: "),
        "show --json": json.loads(_cli(db, "show", ref, "--json").stdout)["notes"],
        "export -f json": json.loads(_cli(db, "export", ref).stdout)["notes"],
        "/api/runs/ID": api,
        "/api/runs": row.get("notes") or [],
    }


@pytest.mark.parametrize("where", ["carbon_options", "emissions"])
def test_every_output_says_the_zone_was_set_aside_once(tmp_path: Path, where: str) -> None:
    db = tmp_path / "r.db"
    rid = tracked_run(db)

    def damage(s: dict[str, Any]) -> None:
        s["carbon_options"]["zone"] = "XX" if where == "carbon_options" else None
        s["emissions"].update(zone="XX", emissions_g="abc")

    edit_summary(db, rid, damage)
    for output, notes in _every_output(db, rid).items():
        said = [n for n in notes if n.startswith(SET_ASIDE)]
        assert len(said) == 1 and INSTEAD in said[0], (output, notes)
        assert not any("no zone set" in n for n in notes), (output, notes)
    reported = json.loads(_cli(db, "report", str(rid), "--json").stdout)
    assert reported["emissions"]["zone"] == "WORLD"
    shown = json.loads(_cli(db, "show", str(rid), "--json").stdout)["figures"]
    assert shown["emissions_g"] == pytest.approx(reported["emissions"]["emissions_g"], rel=1e-9)


def test_usable_stored_emissions_are_not_priced_again_and_get_no_such_note(
        tmp_path: Path) -> None:
    db = tmp_path / "r.db"
    rid = tracked_run(db)
    edit_summary(db, rid, lambda s: s["carbon_options"].update(zone="XX"))
    for output, notes in _every_output(db, rid).items():
        if output != "report":  # report prices the run again, and says why
            assert not any(n.startswith(SET_ASIDE) for n in notes), (output, notes)


def test_report_says_the_emissions_zone_it_set_aside(tmp_path: Path) -> None:
    """Only the emissions block names a zone that is not one (its carbon options DE):
    ``report`` prices in DE, as before, and now says why (it gave DE without a word while
    ``show`` gave the stored zone, marked not usable); the figure is every output's."""
    db = tmp_path / "r.db"
    rid = tracked_run(db)
    edit_summary(db, rid, lambda s: s["emissions"].update(zone="XX"))
    reported = json.loads(_cli(db, "report", str(rid), "--json").stdout)["emissions"]
    assert reported["zone"] == "DE"
    assert [n for n in reported["notes"] if "zone" in n] == [
        "the run's emissions name a zone that is not usable (unknown zone 'XX'; did you mean"
        " MX? (list zones with `wattwise zones`)): priced in DE, the zone its carbon options"
        " record"]
    assert "the zone its carbon options record" in " ".join(
        _cli(db, "report", str(rid)).output.split())
    shown = json.loads(_cli(db, "show", str(rid), "--json").stdout)["figures"]
    assert shown["emissions_g"] == pytest.approx(reported["emissions_g"], rel=1e-9)
    given = json.loads(_cli(db, "report", str(rid), "--json", "--zone", "FR").stdout)
    assert not any("carbon options record" in n for n in given["emissions"]["notes"])
