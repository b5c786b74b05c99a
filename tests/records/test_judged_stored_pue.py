"""A stored PUE that is not usable (0, text, 1e300, one its own emissions block was not
priced with) is judged as ``--pue`` is judged: ``show`` prints the PUE the run's
emissions were priced with (its facility energy over its energy), never the stored one,
and every output gives one note; ``export -f codecarbon`` multiplies by that PUE (a
stored 0 made every energy cell 0). A real run's PUE is kept, unsaid."""

from __future__ import annotations

import csv
import io
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
from wattwise.records.store import Store
from wattwise.server.data import run_payload

_register_all()

pytestmark = pytest.mark.usefixtures("no_ambient_zone")

NOTE = "the stored PUE is not usable"


def _cli(*args: str) -> tuple[str, str]:
    r = CliRunner().invoke(app, list(args), env={"COLUMNS": "400"})
    assert r.exit_code == 0, (r.stdout, r.stderr, r.exception)
    return str(r.stdout), str(r.stderr)


def _recorded(db: Path, pue: float) -> int:
    with wattwise.track("job", db=db, sensors=[ConstantPowerSensor({"cpu:package": 40.0})],
                        interval_s=0.05, zone="DE", pue=pue) as run:
        time.sleep(0.3)
    assert run.flush() and run.run_id is not None  # its summary written
    return int(run.run_id)


def _set_pue(value: Any) -> Any:
    def change(s: dict[str, Any]) -> None:
        s["emissions"]["pue"] = value
    return change


def _notes(db: Path, rid: int) -> dict[str, list[str]]:
    d, i = str(db), str(rid)
    show = json.loads(_cli("show", i, "--db", d, "--json")[0])
    listed = next(r for r in json.loads(_cli("runs", "--db", d, "--json")[0])
                  if r["id"] == rid)
    report = json.loads(_cli("report", i, "--db", d, "--json")[0])
    exported = json.loads(_cli("export", i, "--db", d, "-f", "json")[0])
    with Store(db, readonly=True) as store:
        api = run_payload(store, rid)
    return {"show": show["notes"], "runs": listed["notes"],
            "report": report["emissions"]["notes"], "export": exported["notes"],
            "api": api["notes"], "figures": [f"pue={show['figures'].get('pue')}",
                                             f"pue={api['run']['figures'].get('pue')}"]}


@pytest.mark.parametrize("stored", [0.0, "abc", 1e300, 1.0])
def test_a_stored_pue_not_usable_is_set_aside_with_one_note(tmp_path: Path,
                                                            stored: Any) -> None:
    db = tmp_path / "r.db"
    rid = _recorded(db, 1.3)  # its block: facility energy = 1.3 x energy
    edit_summary(db, rid, _set_pue(stored))
    got = _notes(db, rid)
    for where in ("show", "runs", "report", "export", "api"):
        said = [n for n in got[where] if n.startswith(NOTE)]
        assert len(said) == 1, (where, got[where])
        assert said[0].endswith("the PUE shown is 1.3"), said
    assert got["figures"] == ["pue=1.3", "pue=1.3"]
    text = " ".join(_cli("show", str(rid), "--db", str(db))[0].split())
    assert "PUE 1.3:" in text and f"PUE {stored}:" not in text and NOTE in text, text


def _without_pue(s: dict[str, Any]) -> None:
    del s["emissions"]["pue"]


@pytest.mark.parametrize("change,why", [(_without_pue, "missing (no pue stored)"),
                                        (_set_pue(None), "missing (stored as null)")])
def test_a_stored_pue_missing_is_set_aside_as_one_not_usable(
        tmp_path: Path, change: Any, why: str) -> None:
    """A block that holds its grams but no PUE (every block wattwise writes holds one):
    ``show`` gave "PUE -", CodeCarbon's energy was before PUE with ``pue`` empty, while
    ``report`` priced it at the recorded 1.3."""
    db = tmp_path / "r.db"
    rid = _recorded(db, 1.3)
    edit_summary(db, rid, change)
    got = _notes(db, rid)
    for where in ("show", "runs", "report", "export", "api"):
        said = [n for n in got[where] if n.startswith(NOTE)]
        assert said == [f"{NOTE}: {why}: a damaged record; the PUE shown is 1.3"], \
            (where, got[where])
    assert got["figures"] == ["pue=1.3", "pue=1.3"]
    out = CliRunner().invoke(app, ["export", str(rid), "-f", "codecarbon", "--db", str(db)])
    report = json.loads(_cli("report", str(rid), "--db", str(db), "--json")[0])
    (row,) = list(csv.DictReader(io.StringIO(out.stdout)))
    assert float(row["pue"]) == report["emissions"]["pue"] == 1.3
    assert float(row["energy_consumed"]) == pytest.approx(
        report["emissions"]["facility_energy_kwh"], rel=1e-12)


def test_codecarbon_of_a_stored_pue_of_0_multiplies_by_the_one_shown(
        tmp_path: Path) -> None:
    db = tmp_path / "r.db"
    rid = _recorded(db, 1.3)
    with Store(db, readonly=True) as store:
        it_j = float(store.get_run(rid).summary["energy_j"])  # type: ignore[index]
    edit_summary(db, rid, _set_pue(0.0))
    out = tmp_path / "cc.csv"
    r = CliRunner().invoke(app, ["export", str(rid), "-f", "codecarbon", "-o", str(out),
                                 "--db", str(db)])
    assert r.exit_code == 0, (r.stdout, r.stderr, r.exception)
    (row,) = list(csv.DictReader(io.StringIO(out.read_text())))
    assert float(row["pue"]) == pytest.approx(1.3)
    assert float(row["energy_consumed"]) * 3.6e6 == pytest.approx(it_j * 1.3, rel=1e-9)
    assert sum(NOTE in line for line in r.stderr.splitlines()) == 1, r.stderr


def test_a_real_run_keeps_its_pue_unsaid(tmp_path: Path) -> None:
    db = tmp_path / "r.db"
    rid = _recorded(db, 1.3)
    got = _notes(db, rid)
    assert not [n for k, v in got.items() if k != "figures" for n in v if NOTE in n], got
    assert got["figures"] == ["pue=1.3", "pue=1.3"]
    assert "PUE 1.3:" in " ".join(_cli("show", str(rid), "--db", str(db))[0].split())


@pytest.mark.parametrize("block", [[], "x", None])
def test_emissions_priced_again_are_given_with_the_pue_they_were_priced_at(
        tmp_path: Path, block: Any) -> None:
    """A stored emissions block that is not usable: its grams are priced again as
    ``report`` prices them, and the PUE beside them is that pricing's (``show --json``
    and ``export -f json`` gave none beside grams priced at 1.3; pass S's S4)."""
    db = tmp_path / "r.db"
    rid = _recorded(db, 1.3)

    def spoil(s: dict[str, Any]) -> None:
        s["emissions"] = block
    edit_summary(db, rid, spoil)
    show = json.loads(_cli("show", str(rid), "--db", str(db), "--json")[0])
    exported = json.loads(_cli("export", str(rid), "--db", str(db), "-f", "json")[0])
    report = json.loads(_cli("report", str(rid), "--db", str(db), "--json")[0])
    with Store(db, readonly=True) as store:
        api = run_payload(store, rid)["run"]["figures"]
    for figures in (show["figures"], exported["figures"], api):
        assert figures["pue"] == report["emissions"]["pue"] == 1.3, figures
        assert figures["emissions_g"] == pytest.approx(report["emissions"]["emissions_g"],
                                                       rel=1e-9)


def _no_options(s: dict[str, Any]) -> None:
    del s["carbon_options"]


def _options_pue_2(s: dict[str, Any]) -> None:
    s["carbon_options"]["pue"] = 2.0


def _no_facility(s: dict[str, Any]) -> None:
    del s["emissions"]["facility_energy_kwh"]


@pytest.mark.parametrize("changes", [(_no_options,), (_without_pue, _no_options),
                                     (_without_pue, _options_pue_2),
                                     (_without_pue, _no_facility, _no_options)])
def test_report_prices_at_the_pue_every_output_shows(tmp_path: Path, changes: Any) -> None:
    """A summary recording no carbon options, its block intact (pass S's S3), or a block
    holding its grams but no PUE, its options gone or naming another PUE (pass T's T1):
    ``report`` priced it at PUE 1 (or 2), unsaid or beside its own note "the PUE shown is
    1.3", where every other output gave the block's grams at 1.3; pass T's T2: its
    facility energy gone too, every output gave PUE 1 beside grams priced at 1.3, which
    its grams over its energy times its intensity still give."""
    db = tmp_path / "r.db"
    rid = _recorded(db, 1.3)

    def change(s: dict[str, Any]) -> None:
        for one in changes:
            one(s)
    edit_summary(db, rid, change)
    show = json.loads(_cli("show", str(rid), "--db", str(db), "--json")[0])
    report = json.loads(_cli("report", str(rid), "--db", str(db), "--json")[0])
    # the block's facility energy over its energy: 1.3 to the last digit or two
    assert report["emissions"]["pue"] == show["figures"]["pue"] == pytest.approx(1.3)
    assert report["emissions"]["emissions_g"] == pytest.approx(
        show["figures"]["emissions_g"], rel=1e-9)
