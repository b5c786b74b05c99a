"""`defer` and `plan --run` say what each run used and emitted, and what it saved against
its usual time, with the same figures as the run record they wrote (read back through
``Store``) and as `plan --run --json`."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from tests.fixtures.hourly_trace import write_hourly_trace
from wattwise.cli import schedule
from wattwise.records.store import Store

app = typer.Typer()
schedule.register(app)
runner = CliRunner()
WIDE = {"COLUMNS": "1000"}


def _flat(text: str) -> str:
    return " ".join(text.split())


def _only_run(db: Path) -> Any:
    (info,) = Store(db, readonly=True).list_runs()
    return Store(db, readonly=True).get_run(info.id)


def _second_trace(path: Path, start: int, values: list[float]) -> Path:
    path.write_text("Time,Carbon Intensity\n" +
                    "".join(f"{start + i},{v}\n" for i, v in enumerate(values)))
    return path


def test_defer_prints_energy_emissions_and_saving_as_its_record_holds(tmp_path: Path) -> None:
    now = int(time.time())
    # 1-second steps: 500 g/kWh for 7 s from now, 10 in the 8th second, then 500 again;
    # the usual time ("now", whenever the plan is made in those 7 s) is at 500.
    fc = _second_trace(tmp_path / "fc.csv", now - 1, [500.0] * 8 + [10.0] + [500.0] * 40)
    db = tmp_path / "r.db"
    r = runner.invoke(app, ["defer", "--within", "10s", "--duration", "1s", "--zone", "GB",
                            "--intensity-trace", str(fc), "--db", str(db), "--name", "tiny",
                            "--", sys.executable, "-c", "pass"], env=WIDE)
    assert r.exit_code == 0, r.output
    err = _flat(r.stderr)
    rec = _only_run(db)
    s, e = rec.summary, rec.summary["emissions"]
    kind = s["kind"]
    assert kind in ("measured", "estimated", "mixed")
    energy = f"{s['energy_j']:.1f} J"
    assert f"tiny: energy {energy}" in err
    assert f"= {s['energy_j'] / 3.6e6:.4g} kWh over {s['duration_s']:.1f} s, {kind} (" in err
    for d in s["domains"]:
        if d.get("in_total", True):
            assert f"{d['domain']}: {d['source']}" in err
    assert f"run {rec.id} in the run record" in err
    assert f"emissions: {e['emissions_g']:.4g} gCO2eq" in err
    # The usual time is "now": 500 g/kWh on the plan's own trace; the same energy there.
    usual_g = e["facility_energy_kwh"] * 500.0
    saving = usual_g - e["emissions_g"]
    assert "tiny: at its usual time (" in err
    assert "GB: 500.0 gCO2eq/kWh forecast from trace:fc.csv) the same energy would have " \
           f"emitted {usual_g:.4g} gCO2eq;" in err
    # Where the run really ran decides the sign (a late start on a loaded machine may miss
    # the clean second); the line says which, with the record's own figures.
    if abs(saving) <= 1e-9 * usual_g:
        assert "; no saving: 0 gCO2eq (0 %), estimated" in err
    else:
        verb = "saved" if saving > 0 else "emitted more:"
        assert f"; {verb} {abs(saving):.4g} gCO2eq ({abs(100 * saving / usual_g):.3g} %), " \
               "estimated" in err
    assert rec.name == "tiny"


def test_defer_without_a_record_says_so(tmp_path: Path) -> None:
    fc = write_hourly_trace(tmp_path / "fc.csv", 3600 * (int(time.time()) // 3600 - 1),
                            [100.0] * 4)
    r = runner.invoke(app, ["defer", "--within", "2s", "--duration", "1s", "--zone", "DE",
                            "--intensity-trace", str(fc), "--no-store", "--",
                            sys.executable, "-c", "pass"], env=WIDE)
    assert r.exit_code == 0, r.output
    err = _flat(r.stderr)
    assert "not recorded (--no-store)" in err
    assert "no saving: 0 gCO2eq (0 %), estimated" in err  # a flat trace saves nothing


def test_plan_run_prints_each_runs_figures_and_json_carries_the_same(tmp_path: Path) -> None:
    jobs = tmp_path / "jobs.json"
    jobs.write_text(json.dumps({"jobs": [
        {"name": "quick", "duration": "1s", "within": "3s", "power_w": 20, "zone": "DE",
         "command": [sys.executable, "-c", "pass"]}]}))
    de = write_hourly_trace(tmp_path / "de.csv", 3600 * (int(time.time()) // 3600 - 1),
                            [120.0] * 4)
    db = tmp_path / "r.db"
    r = runner.invoke(app, ["plan", str(jobs), "--intensity-trace", f"DE={de}", "--db", str(db),
                            "--run", "--json"], env=WIDE)
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)
    assert doc["assignments"][0]["job"] == "quick"  # the plan, then what its runs did
    run = doc["runs"]["quick"]
    rec = _only_run(db)
    s, e = rec.summary, rec.summary["emissions"]
    assert run["run_id"] == rec.id and rec.name == "quick"
    assert run["energy_j"] == pytest.approx(s["energy_j"], rel=1e-12)
    assert (run["low_j"], run["high_j"]) == pytest.approx((s["low_j"], s["high_j"]), rel=1e-12)
    assert run["energy_kind"] == s["kind"]
    assert run["emissions_g"] == pytest.approx(e["emissions_g"], rel=1e-12)
    assert run["intensity_g_per_kwh"] == pytest.approx(e["avg_intensity_g_per_kwh"])
    assert run["intensity_g_per_kwh"] == pytest.approx(120.0)
    assert run["usual_g_per_kwh"] == pytest.approx(120.0)
    assert run["usual_g"] == pytest.approx(e["facility_energy_kwh"] * 120.0, rel=1e-9)
    assert run["saving_g"] == 0.0 and run["saving_pct"] == 0.0
    assert run["saving_kind"] == "estimated" and run["usual_from"] == "trace:de.csv"
    assert run["priced_on"] == rec.tags["priced_on"]
    err = _flat(r.stderr)
    assert (f"wattwise: quick: energy {s['energy_j']:.1f} J") in err
    assert (f"wattwise: quick: emissions {e['emissions_g']:.4g} gCO2eq "
            f"({e['low_g']:.4g}-{e['high_g']:.4g}) at 120.0 gCO2eq/kWh, PUE 1, priced on "
            f"{rec.tags['priced_on']}") in err
    assert f"the same energy would have emitted {run['usual_g']:.4g} gCO2eq; no saving" in err


def test_plan_run_without_json_prints_the_table_then_the_figures(tmp_path: Path) -> None:
    jobs = tmp_path / "jobs.json"
    jobs.write_text(json.dumps({"jobs": [
        {"name": "quick", "duration": "1s", "within": "3s", "zone": "DE",
         "command": [sys.executable, "-c", "pass"]}]}))
    de = write_hourly_trace(tmp_path / "de.csv", 3600 * (int(time.time()) // 3600 - 1),
                            [120.0] * 4)
    db = tmp_path / "r.db"
    r = runner.invoke(app, ["plan", str(jobs), "--intensity-trace", f"DE={de}", "--db", str(db),
                            "--run"], env=WIDE)
    assert r.exit_code == 0, r.output
    assert "estimated from forecasts, not measured" in r.stdout
    rec = _only_run(db)
    assert f"wattwise: quick: energy {rec.summary['energy_j']:.1f} J" in _flat(r.stderr)


def test_a_job_with_no_freedom_saves_nothing_in_its_own_output_and_on_the_dashboard(
    tmp_path: Path
) -> None:
    """The usual and planned intensities are stored at full precision: the dashboard's
    saving, read back from the record, is the 0 the command printed (not the difference
    a rounded intensity makes)."""
    from wattwise.server.results import plan_figures

    db = tmp_path / "r.db"
    r = runner.invoke(app, ["defer", "--within", "1s", "--duration", "1s", "--zone", "DE",
                            "--db", str(db), "--name", "fixed", "--",
                            sys.executable, "-c", "pass"], env=WIDE)
    assert r.exit_code == 0, r.output
    assert "; no saving: 0 gCO2eq (0 %), estimated" in _flat(r.stderr)
    rec = _only_run(db)
    assert float(rec.tags["usual_g_per_kwh"]) == pytest.approx(
        rec.summary["emissions"]["avg_intensity_g_per_kwh"], rel=1e-12)
    shown = plan_figures(rec.to_dict())
    assert shown["saving_g"] == 0.0 and shown["saving_pct"] == 0.0
