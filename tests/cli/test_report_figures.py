"""`wattwise report` prices a run as it was recorded; an option that overrides says so."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

import wattwise
from tests.fixtures.fake_sensors import ConstantPowerSensor
from wattwise.cli import _register_all, app
from wattwise.store import Store

_register_all()
runner = CliRunner()


@pytest.fixture(autouse=True)
def _no_ambient_zone(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Nothing but the run's record may pick the zone (no $WATTWISE_ZONE, no config)."""
    monkeypatch.delenv("WATTWISE_ZONE", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))


def _record(db: Path, **carbon: Any) -> int:
    sensor = ConstantPowerSensor({"cpu:package": 40.0})
    with wattwise.track("job", db=db, sensors=[sensor], interval_s=0.05, **carbon) as run:
        time.sleep(0.3)
    assert run.run_id is not None
    return int(run.run_id)


def _invoke(*args: str) -> Any:
    r = runner.invoke(app, list(args), env={"COLUMNS": "300"})
    assert r.exit_code == 0, r.output
    return r


def _flat(text: str) -> str:
    """Output with the console's line wrapping undone."""
    return " ".join(text.split())


def _printed_grams(text: str) -> float:
    m = re.search(r"emissions:? ([0-9.eE+-]+) gCO2eq", text)
    assert m, text
    return float(m.group(1))


def _html_grams(page: Path, run_id: int) -> float:
    m = re.search(
        r'<script type="application/json" id="wattwise-data">(.*?)</script>',
        page.read_text(), re.S,
    )
    assert m
    data = json.loads(m.group(1))["data"]
    return float(data[f"/api/runs/{run_id}"]["run"]["summary"]["emissions"]["emissions_g"])


def test_report_show_json_html_and_record_agree_for_a_run_recorded_with_a_zone(
    tmp_path: Path,
) -> None:
    db = tmp_path / "r.db"
    run_id = _record(db, zone="DE")
    stored = Store(db).get_run(run_id).summary["emissions"]
    assert stored["zone"] == "DE"
    page = tmp_path / "job.html"
    as_json = json.loads(_invoke("report", str(run_id), "--json", "--db", str(db)).stdout)
    printed = _invoke("report", str(run_id), "--html", str(page), "--db", str(db)).stdout
    shown = json.loads(_invoke("show", str(run_id), "--json", "--db", str(db)).stdout)

    g = stored["emissions_g"]
    assert as_json["emissions"]["zone"] == "DE"
    assert as_json["emissions"]["emissions_g"] == pytest.approx(g, rel=1e-9)
    assert shown["summary"]["emissions"]["emissions_g"] == pytest.approx(g, rel=1e-9)
    assert _html_grams(page, run_id) == pytest.approx(g, rel=1e-9)
    assert _printed_grams(printed) == pytest.approx(g, rel=1e-2)  # printed to 3 figures
    assert "DE" in printed and "priced at" not in printed


def test_report_with_zone_option_says_it_overrides_the_recorded_zone(tmp_path: Path) -> None:
    db = tmp_path / "r.db"
    run_id = _record(db, zone="DE")
    recorded = Store(db).get_run(run_id).summary["emissions"]["emissions_g"]
    out = _invoke("report", str(run_id), "--zone", "FR", "--db", str(db)).stdout
    assert "priced at FR (--zone), recorded with DE" in _flat(out)
    fr = json.loads(_invoke("report", str(run_id), "--zone", "FR", "--json", "--db", str(db))
                    .stdout)
    assert fr["emissions"]["zone"] == "FR"
    assert fr["emissions"]["emissions_g"] < recorded  # FR's grid is cleaner than DE's
    assert any("priced at FR (--zone)" in n for n in fr["emissions"]["notes"])


def test_the_saved_page_shows_the_figures_report_printed_when_an_option_reprices(
    tmp_path: Path,
) -> None:
    db = tmp_path / "r.db"
    run_id = _record(db, zone="DE")
    page = tmp_path / "fr.html"
    fr = json.loads(_invoke("report", str(run_id), "--zone", "FR", "--pue", "1.3", "--json",
                            "--html", str(page), "--db", str(db)).stdout)
    m = re.search(r'<script type="application/json" id="wattwise-data">(.*?)</script>',
                  page.read_text(), re.S)
    assert m
    data = json.loads(m.group(1))["data"]
    summary = data[f"/api/runs/{run_id}"]["run"]["summary"]
    assert summary["emissions"]["zone"] == "FR" and summary["emissions"]["pue"] == 1.3
    assert summary["emissions"]["emissions_g"] == pytest.approx(
        fr["emissions"]["emissions_g"], rel=1e-12)
    assert any("priced at FR (--zone), PUE 1.3 (--pue), recorded with DE" in n
               for n in summary["notes"])
    (row,) = data["/api/runs?limit=100"]["runs"]
    assert row["zone"] == "FR" and row["emissions_g"] == summary["emissions"]["emissions_g"]
    # the record itself is unchanged
    assert Store(db).get_run(run_id).summary["emissions"]["zone"] == "DE"


def test_report_keeps_the_recorded_pue_unless_overridden(tmp_path: Path) -> None:
    db = tmp_path / "r.db"
    run_id = _record(db, zone="DE", pue=1.5)
    recorded = Store(db).get_run(run_id).summary["emissions"]
    same = json.loads(_invoke("report", str(run_id), "--json", "--db", str(db)).stdout)
    assert same["emissions"]["pue"] == 1.5
    assert same["emissions"]["emissions_g"] == pytest.approx(recorded["emissions_g"])
    other = _invoke("report", str(run_id), "--pue", "1.2", "--db", str(db)).stdout
    assert "priced at PUE 1.2 (--pue), recorded with DE, PUE 1.5" in _flat(other)


def test_report_of_a_run_whose_trace_is_gone_uses_the_recorded_intensities(
    tmp_path: Path,
) -> None:
    trace = tmp_path / "de.csv"
    now = time.time()
    rows = ["Time,Carbon Intensity"] + [
        time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now - 7200 + 1800 * k)) + ",123"
        for k in range(9)
    ]
    trace.write_text("\n".join(rows) + "\n")
    db = tmp_path / "r.db"
    run_id = _record(db, zone="DE", intensity_trace=trace)
    recorded = Store(db).get_run(run_id).summary["emissions"]
    assert recorded["avg_intensity_g_per_kwh"] == pytest.approx(123)
    trace.unlink()
    r = _invoke("report", str(run_id), "--db", str(db))
    assert f"{trace} no longer exists" in _flat(r.stdout)
    out = json.loads(_invoke("report", str(run_id), "--json", "--db", str(db)).stdout)
    assert out["emissions"]["emissions_g"] == pytest.approx(recorded["emissions_g"])
    assert out["emissions"]["avg_intensity_g_per_kwh"] == pytest.approx(123)
