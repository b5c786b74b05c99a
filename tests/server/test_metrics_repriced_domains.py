"""/metrics gives no per-domain energy series for a run whose stored total is not usable:
its figure is its samples' (``records.run_sums.unusable_total_share``, as ``wattwise
report`` gives it and as its emissions series and the totals count it), and its stored
domains are not that figure's split (once they summed to 5.03 J beside a 17.02 J figure)."""

from __future__ import annotations

import re
from pathlib import Path

from fastapi.testclient import TestClient

from tests.fixtures.damaged import stored_figures
from tests.server._runs import fixture_db
from wattwise.server.app import create_app


def _series(text: str, name: str, rid: int) -> list[str]:
    return re.findall(rf'^{name}\{{[^}}]*run_id="{rid}"[^}}]*\}} \S+$', text, re.M)


def test_a_repriced_run_has_no_per_domain_energy_series(tmp_path: Path) -> None:
    db = tmp_path / "runs.db"
    runs = fixture_db(db)
    rid = runs["smaller"]
    stored_figures(db, rid, energy_j=200.0, low_j=10.0, high_j=30.0)
    with TestClient(create_app(db), base_url="http://127.0.0.1") as c:
        text = c.get("/metrics").text
        figure = c.get(f"/api/runs/{rid}").json()["run"]["figures"]
    assert isinstance(figure["energy_j"], float) and figure["energy_note"]
    assert _series(text, "wattwise_run_emissions_grams", rid)  # priced from that figure
    assert _series(text, "wattwise_run_energy_joules_total", rid) == []
    others = [r for r in runs.values() if r != rid]
    assert any(_series(text, "wattwise_run_energy_joules_total", r) for r in others)
    help_line = next(line for line in text.splitlines()
                     if line.startswith("# HELP wattwise_run_energy_joules_total"))
    assert "whose stored total is not usable" in help_line and "no series" in help_line
