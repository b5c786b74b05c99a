"""CodeCarbon's ``energy_consumed`` is the run's emissions' own facility energy where the
two agree within rounding (``codecarbon_cells.same_kwh``): summed in another order, a run
without a summary read 7.207302551308689e-06 kWh in the CSV beside 7.20730255130869e-06
in ``export -f json`` and ``report``."""

from __future__ import annotations

import csv
import io
import json
import random
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.server._runs import START
from wattwise.cli import _register_all, app
from wattwise.records.queries import SampleRow
from wattwise.records.store import Store

pytestmark = pytest.mark.usefixtures("no_ambient_zone")


def _lost_runs(db: Path, n: int) -> list[int]:
    """``n`` lost runs (no summary) in zone DE, each of 40 samples of uneven energy in
    each of two domains."""
    rng = random.Random(7)
    ids = []
    with Store(db) as store:
        for k in range(n):
            start = START + 1000.0 * k
            rid = store.create_run(
                name=f"lost-{k}", started_unix_s=start,
                host={"hostname": "lab-04", "carbon_options": {
                    "zone": "DE", "intensity_trace": None, "provider": None, "pue": 1.3}},
                hardware={}, versions={}, pid=2**22 + 9,  # no such process
                sensors=[{"name": "model", "domains": [
                    {"name": d, "kind": "estimated", "source": "model", "in_total": True}
                    for d in ("cpu:model", "memory:model")]}])
            rows = []
            for t in range(1, 41):
                for d in ("cpu:model", "memory:model"):
                    e = rng.uniform(0.1, 30.0)
                    rows.append(SampleRow(start + t, d, e, e, e * 0.9, e * 1.1))
            store.add_samples(rid, rows)
            ids.append(rid)
    return ids


def test_energy_consumed_is_the_emissions_facility_energy(tmp_path: Path) -> None:
    _register_all()
    db = tmp_path / "runs.db"
    runner = CliRunner()
    for rid in _lost_runs(db, 25):
        cc = runner.invoke(app, ["export", "--db", str(db), "-f", "codecarbon", str(rid)])
        js = runner.invoke(app, ["export", "--db", str(db), "-f", "json", str(rid)])
        assert cc.exit_code == 0 and js.exit_code == 0, (cc.output, js.output)
        (row,) = csv.DictReader(io.StringIO(cc.stdout))
        em = json.loads(js.stdout)["emissions_so_far"]
        assert em["pue"] == 1.3
        assert float(row["energy_consumed"]) == em["facility_energy_kwh"], rid
        assert float(row["emissions"]) * 1000 == pytest.approx(em["emissions_g"], rel=1e-12)
