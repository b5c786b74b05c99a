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


@pytest.mark.parametrize("zone,pue,expected", [("DE", 1.37, 1.37), ("DE", None, 1.0),
                                               ("aws:eu-west-1", None, None)])
def test_a_summary_without_emissions_has_the_pue_report_prices_it_with(
    tmp_path: Path, zone: str, pue: float | None, expected: float | None
) -> None:
    """A finished run whose summary holds no emissions block (pricing failed, or another
    program removed it): ``wattwise report`` prices it with the PUE its recorded options
    give, so CodeCarbon's ``pue`` is that one and ``energy_consumed`` report's facility
    energy (it was the energy before PUE, ``pue`` empty); the grams stay empty."""
    _register_all()
    db = tmp_path / "runs.db"
    start = START + 5.0
    options = {"zone": zone, "intensity_trace": None, "provider": None, "pue": pue}
    with Store(db) as store:
        rid = store.create_run(name="no-emissions", started_unix_s=start, host={},
                               hardware={}, versions={}, sensors=[])
        store.add_samples(rid, [SampleRow(start + t, "cpu:model", 7.5, 7.5, 6.0, 9.0)
                                for t in range(1, 5)])
        store.finish_run(rid, ended_unix_s=start + 4.0, status="finished", summary={
            "energy_j": 30.0, "low_j": 24.0, "high_j": 36.0, "kind": "estimated",
            "duration_s": 4.0, "domains": [], "notes": [], "carbon_options": options})
    runner = CliRunner()
    cc = runner.invoke(app, ["export", "--db", str(db), "-f", "codecarbon", str(rid)])
    rep = runner.invoke(app, ["report", "--db", str(db), "--json", str(rid)])
    assert cc.exit_code == 0 and rep.exit_code == 0, (cc.output, rep.output)
    (row,) = csv.DictReader(io.StringIO(cc.stdout))
    priced = json.loads(rep.stdout)["emissions"]
    if expected is not None:
        assert priced["pue"] == expected
    assert float(row["pue"]) == priced["pue"]
    assert float(row["energy_consumed"]) == priced["facility_energy_kwh"]
    assert row["emissions"] == ""
    assert "recorded without emissions" in cc.stderr
