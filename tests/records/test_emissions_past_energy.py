"""Stored emissions more than the run's stored total could emit (at 2,000 gCO2eq/kWh and
PUE 5) are a damaged record in every output: a block holding only ``emissions_g: 9.9``
for a run of about 12 J was shown as its reading by ``show``, the list and ``/metrics``
while ``report`` priced the run anew (0.0013 g)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from tests._damage import edit_summary, tracked_run
from wattwise.carbon._data import MAX_INTENSITY_G_PER_KWH
from wattwise.cli import _register_all, app
from wattwise.records.stored_energy import MAX_PUE, MOST_G_PER_J, summary_emissions_fault

_register_all()
pytestmark = pytest.mark.usefixtures("no_ambient_zone")


def test_the_bound_is_that_of_the_highest_intensity_and_pue() -> None:
    assert MOST_G_PER_J == MAX_PUE * MAX_INTENSITY_G_PER_KWH / 3.6e6
    most = 10.0 * MOST_G_PER_J
    ok = {"energy_j": 10.0, "low_j": 9.0, "high_j": 10.0,
          "emissions": {"emissions_g": most, "low_g": 0.0, "high_g": most}}
    assert summary_emissions_fault(ok) is None
    ok["emissions"]["high_g"] = most * 1.00001
    assert "more than the run's stored 10 J could emit" in str(summary_emissions_fault(ok))
    # past the bound by less than six digits show: every digit, never "x is more than x"
    ok["emissions"]["high_g"] = most * (1 + 1e-6) * (1 + 1e-9)
    why = str(summary_emissions_fault(ok))
    said, bound = why.split(" gCO2eq is more than")[0], why.split("(")[1].split(" g at")[0]
    assert said != bound and float(said) > float(bound), why


def test_every_output_sets_aside_emissions_past_the_energy(tmp_path: Path) -> None:
    from wattwise.server import create_app

    db = tmp_path / "r.db"
    rid = tracked_run(db)
    edit_summary(db, rid, lambda s: s.update(emissions={"emissions_g": 9.9, "zone": "DE"}))

    def cli(*args: str) -> dict:
        r = CliRunner().invoke(app, [*args, "--db", str(db)])
        assert r.exit_code == 0, r.output
        return json.loads(r.stdout)

    shown = cli("show", str(rid), "--json")
    why = "the stored emissions are not usable: 9.9 gCO2eq is more than the run's stored"
    assert any(n.startswith(why) for n in shown["notes"]), shown["notes"]
    want = cli("report", str(rid), "--json")["emissions"]["emissions_g"]
    assert 0 < want < 0.01
    assert shown["figures"]["emissions_g"] == pytest.approx(want, rel=1e-9)
    with TestClient(create_app(db), base_url="http://127.0.0.1") as client:
        (row,) = client.get("/api/runs?all_notes=true").json()["runs"]
        page = client.get("/api/runs?sort=emissions&order=desc").json()["runs"]
        total = re.search(r'wattwise_emissions_grams_total\{kind="measured"\} (\S+)',
                          client.get("/metrics").text)
    assert row["emissions_g"] == pytest.approx(want, rel=1e-9), row
    assert any(n.startswith(why) for n in row["notes"]), row["notes"]
    assert page[0]["emissions_g"] == pytest.approx(want, rel=1e-9)
    assert total is not None and float(total.group(1)) == pytest.approx(want, rel=1e-9)
