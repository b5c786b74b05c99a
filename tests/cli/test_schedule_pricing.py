"""`wattwise plan --ray` and `wattwise defer`: each run priced as planned, and said so."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from tests.fixtures.fake_ray import FakeRay
from tests.fixtures.hourly_trace import write_hourly_trace
from wattwise.cli import schedule
from wattwise.records.store import Store
from wattwise.schedule.ray_executor import zone_resource

app = typer.Typer()
schedule.register(app)
runner = CliRunner()
SLEEP = [sys.executable, "-c", "import time; time.sleep(1.2)"]


@pytest.fixture(autouse=True)
def _own_cache_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))


def test_plan_on_ray_prices_the_run_on_the_trace_it_was_planned_on(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "ray", FakeRay({"CPU": 4, zone_resource("DE"): 1}))
    jobs = tmp_path / "jobs.json"
    jobs.write_text(json.dumps({"jobs": [
        {"name": "train", "duration": "1s", "within": "1h", "zone": "DE", "command": SLEEP}]}))
    # Flat: the tie rule keeps the job at its usual time, now.
    de = write_hourly_trace(tmp_path / "de.csv", 3600 * (int(time.time()) // 3600 - 1),
                            [100.0] * 4)
    db = tmp_path / "r.db"
    r = runner.invoke(app, ["plan", str(jobs), "--intensity-trace", f"DE={de}", "--ray", "auto",
                            "--db", str(db)], env={"COLUMNS": "200"})
    assert r.exit_code == 0, r.output
    out = " ".join(r.output.split())
    assert ("train: planned 100.0 gCO2eq/kWh (forecast, from trace:de.csv), realised 100.0 "
            "gCO2eq/kWh (as priced in the run record, on trace de.csv (the file the plan was "
            "made on))") in out
    assert "tie rule: a job moves only for a forecast saving above DE: 1 % of running" in out
    (info,) = Store(db).list_runs()
    assert info.name == "train"
    assert info.summary is not None
    assert info.summary["emissions"]["avg_intensity_g_per_kwh"] == pytest.approx(100.0)


def test_defer_without_a_forecast_prices_the_run_on_the_typical_week_and_says_so(
        tmp_path: Path) -> None:
    db = tmp_path / "r.db"
    r = runner.invoke(app, ["defer", "--within", "3s", "--duration", "1s", "--zone", "FR",
                            "--db", str(db), "--", *SLEEP])
    assert r.exit_code == 0, r.output
    out = " ".join(r.output.split())
    assert ("(as priced in the run record, on the FR typical-week profile of 2020 (offline), "
            "not a forecast of today's grid, as the plan was: an estimate of the usual grid, "
            "not its measured intensity)") in out
    (info,) = Store(db).list_runs()
    assert info.summary is not None
    assert info.summary["emissions"]["source"] == "trace:typical-week-FR.csv"
    assert "typical-week profile of 2020" in info.tags["priced_on"]
