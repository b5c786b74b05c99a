"""A stored range whose bound is no usable number (a 400-digit JSON integer, text, an
infinity) is no range: the figure stored with it is a damaged record, named so in the one
note every output gives, and the bound is never given as a figure (the raw integer in
``report --json``, a dropped bound in ``show``'s "(--0.0014)")."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from tests._damage import edit_summary
from tests.server._runs import fixture_db
from wattwise.cli import _register_all, app
from wattwise.records.stored_energy import emissions_fault, energy_fault
from wattwise.server.app import create_app

_register_all()

HUGE = 10**400


@pytest.mark.parametrize("lo, hi, said", [
    (HUGE, 8.0, "low_j (a bound of its range) is implausibly large (an integer of about 401"),
    (5.0, -HUGE, "high_j (a bound of its range) is negative (an integer of about 401"),
    (float("-inf"), 8.0, "low_j (a bound of its range) is not a finite number (stored as -inf)"),
    ("5", 8.0, "low_j (a bound of its range) is not a number (stored as '5')"),
])
def test_a_bound_that_is_no_number_makes_the_energy_unusable(lo: Any, hi: Any,
                                                              said: str) -> None:
    why = energy_fault(6.0, lo, hi)
    assert why is not None and why.startswith(said)


def test_a_bound_that_is_no_number_makes_the_emissions_unusable() -> None:
    why = emissions_fault(0.001, 0.0009, HUGE)
    assert why is not None and why.startswith(
        "high_g (a bound of its range) is implausibly large (an integer of about 401")


def test_no_range_and_a_usable_range_are_no_fault() -> None:
    assert energy_fault(6.0) is None and energy_fault(6.0, 5.0, 8.0) is None
    assert emissions_fault(0.001, None, None) is None


def _cli(*args: str) -> str:
    r = CliRunner().invoke(app, list(args))
    assert r.exit_code == 0, (r.stdout, r.stderr, r.exception)
    return " ".join(str(r.stdout).split())


def _api(db: Path, rid: int) -> tuple[dict[str, Any], dict[str, Any]]:
    with TestClient(create_app(db), base_url="http://localhost") as c:
        rows = c.get("/api/runs?limit=500").json()["runs"]
        one = c.get(f"/api/runs/{rid}").json()
    (row,) = [r for r in rows if r["id"] == rid]
    return row, one


def test_a_huge_low_j_is_named_in_every_output(tmp_path: Path) -> None:
    db = tmp_path / "runs.db"
    rid = fixture_db(db)["smaller"]
    edit_summary(db, rid, lambda s: s.update(low_j=HUGE))
    note = ("the stored energy is not usable: low_j (a bound of its range) is implausibly "
            "large (an integer of about 401 digits, more than 1e+15 J): a damaged record")
    reported = json.loads(_cli("report", str(rid), "--db", str(db), "--json"))
    # never the integer: the range of the samples its figure is priced from
    assert reported["low_j"] <= reported["energy_j"] <= reported["high_j"] < 1e15
    assert reported["energy_note"] == note
    assert note in _cli("show", str(rid), "--db", str(db))
    figures = json.loads(_cli("show", str(rid), "--db", str(db), "--json"))["figures"]
    (listed,) = [r for r in json.loads(_cli("runs", "--db", str(db), "--json", "-l", "100"))
                 if r["id"] == rid]
    row, one = _api(db, rid)
    for got in (figures, listed["figures"], row, one["run"]["figures"]):
        assert got["energy_note"] == note and got["low_j"] == reported["low_j"]
    assert note in one["notes"]


def test_a_huge_low_g_is_named_and_no_bound_is_dropped(tmp_path: Path) -> None:
    db = tmp_path / "runs.db"
    rid = fixture_db(db)["smaller"]
    edit_summary(db, rid, lambda s: s["emissions"].update(low_g=HUGE))
    said = "low_g (a bound of its range) is implausibly large (an integer of about 401"
    shown = _cli("show", str(rid), "--db", str(db))
    assert said in shown and "(--" not in shown
    reported = json.loads(_cli("report", str(rid), "--db", str(db), "--json"))
    assert said in reported["emissions_note"]
    row, one = _api(db, rid)
    assert said in row["emissions_note"] and said in one["run"]["figures"]["emissions_note"]
