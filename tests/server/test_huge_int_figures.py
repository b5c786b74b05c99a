"""A stored figure written as a JSON integer too large for a float (``10**400``: Python's
``json`` reads it as an ``int``, ``float()`` refuses it) is a damaged record, named as one
("implausibly large") in every output: it once raised ``OverflowError`` in ``show``,
``report``, ``runs --json`` and ``export``, and made ``/metrics``, ``/api/runs`` and the
run page answer 500 for the whole database."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from tests._damage import edit_summary
from tests.server._runs import fixture_db
from wattwise.cli import _register_all, app
from wattwise.server.app import create_app

_register_all()

HUGE = 10**400


EDITS: dict[str, Callable[[dict[str, Any]], None]] = {
    "energy_j": lambda s: s.update(energy_j=HUGE),
    "low_j": lambda s: s.update(low_j=HUGE),
    "emissions_g": lambda s: s["emissions"].update(emissions_g=HUGE),
    "low_g": lambda s: s["emissions"].update(low_g=HUGE),
    "domain": lambda s: s["domains"][0].update(energy_j=HUGE),
}


def _cli(*args: str) -> str:
    r = CliRunner().invoke(app, list(args))
    assert r.exit_code == 0, (r.stdout, r.stderr, r.exception)
    return str(r.stdout)


@pytest.mark.parametrize("field", sorted(EDITS))
def test_every_output_names_or_skips_a_huge_integer(tmp_path: Path, field: str) -> None:
    db = tmp_path / "runs.db"
    rid = fixture_db(db)["smaller"]
    edit_summary(db, rid, EDITS[field])
    ref = str(rid)
    shown = _cli("show", ref, "--db", str(db))
    figures = json.loads(_cli("show", ref, "--db", str(db), "--json"))["figures"]
    reported = json.loads(_cli("report", ref, "--db", str(db), "--json"))
    listed = json.loads(_cli("runs", "--db", str(db), "--json", "-l", "100"))
    _cli("runs", "--db", str(db))
    for fmt in ("json", "csv", "codecarbon"):
        _cli("export", ref, "--db", str(db), "-f", fmt, "-o", str(tmp_path / f"out.{fmt}"))
    with TestClient(create_app(db), base_url="http://localhost") as c:
        answers = {u: c.get(u) for u in (
            "/metrics", "/api/runs?limit=500", f"/api/runs/{rid}",
            f"/api/runs/{rid}/timeline", "/api/runs?sort=energy", "/api/runs?sort=emissions",
            "/api/runs?sort=energy&order=asc", "/api/runs?sort=emissions&order=asc")}
    assert {u: r.status_code for u, r in answers.items() if r.status_code != 200} == {}
    (row,) = [r for r in answers["/api/runs?limit=500"].json()["runs"] if r["id"] == rid]
    (listed_row,) = [r for r in listed if r["id"] == rid]
    for got in (figures, row, listed_row["figures"]):  # no figure given is the 400-digit integer
        assert all(not isinstance(v, int) or abs(v) < 1e300 for v in got.values())
    if field == "energy_j":
        note = ("the stored energy is not usable: implausibly large (an integer of about "
                "401 digits, more than 1e+15 J): a damaged record")
        assert note in shown.replace("\n", " ").replace("  ", " ") or note[:60] in shown
        assert figures["energy_note"] == row["energy_note"] == note
        assert figures["energy_j"] == row["energy_j"] == reported["energy_j"] < 1e6
    if field == "emissions_g":
        assert figures["emissions_note"] == row["emissions_note"]
        assert "implausibly large (an integer of about 401 digits" in row["emissions_note"]
        assert figures["emissions_g"] == row["emissions_g"] == \
            reported["emissions"]["emissions_g"]
    if field == "low_j":  # a bound that is no float is not given as one: the total is
        # priced again from its samples, with their range, as report gives it
        assert figures["energy_note"] and figures["energy_note"] == row["energy_note"]
        assert figures["low_j"] == row["low_j"] == reported["low_j"]
        assert isinstance(figures["low_j"], float) and figures["low_j"] <= figures["energy_j"]
    if field == "domain":
        assert "implausibly large (an" in shown
        # a counted domain not usable: the total cannot be checked against its domains,
        # so it is a damaged record, priced again from its samples, with one note
        note = figures["energy_note"]
        assert note and "cannot be checked against its domains: the figure of" in note
        assert "implausibly large (an integer of about 401 digits" in note
        assert note == row["energy_note"] == listed_row["figures"]["energy_note"]
        assert figures["energy_j"] == row["energy_j"] == reported["energy_j"] < 1e6
