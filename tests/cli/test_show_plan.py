"""``show`` of a run a plan started gives its realised saving against the usual time, the
figure the plan page and ``/api/plans`` give: it was readable only there."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from tests.server._results import results_db
from tests.server._runs import START, demo_like
from wattwise.cli import _register_all, app
from wattwise.records.store import Store
from wattwise.server import create_app

_register_all()


def _show(*args: str) -> str:
    r = CliRunner().invoke(app, ["show", *args], env={"COLUMNS": "400"})
    assert r.exit_code == 0, r.output
    return r.stdout


def test_show_gives_a_plan_s_saving_as_the_plan_page_does(tmp_path: Path) -> None:
    db = tmp_path / "runs.db"
    ids = results_db(db)
    with Store(db) as store:
        other = demo_like(store, "no-plan", START + 9000.0)
    with TestClient(create_app(db), base_url="http://localhost") as c:
        served = c.get(f"/api/plans/{ids['plan']}").json()
    assert served["saving_g"] > 0
    doc = json.loads(_show(str(ids["plan"]), "--db", str(db), "--json"))
    assert doc["plan"]["saving_g"] == served["saving_g"]
    assert doc["plan"]["saving_pct"] == pytest.approx(served["saving_pct"])
    text = " ".join(_show(str(ids["plan"]), "--db", str(db)).split())
    assert (f"plan: saving {served['saving_g']:.4g} gCO2eq ({served['saving_pct']:.3g} %) "
            f"against the usual time at {served['usual_g_per_kwh']:.4g} g/kWh") in text
    assert "plan" not in json.loads(_show(str(other), "--db", str(db), "--json"))
    assert "plan:" not in _show(str(other), "--db", str(db))
