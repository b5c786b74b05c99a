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
from wattwise.records.store import Store

_register_all()
runner = CliRunner()


# nothing but the run's record may pick the zone (no $WATTWISE_ZONE, no config)
pytestmark = pytest.mark.usefixtures("no_ambient_zone")


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


# -- a trace edited after the run (F1) -------------------------------------------------


def _trace(path: Path, g: float) -> Path:
    now = time.time()
    rows = ["Time,Carbon Intensity"] + [
        time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now - 7200 + 1800 * k)) + f",{g:g}"
        for k in range(9)
    ]
    path.write_text("\n".join(rows) + "\n")
    return path


def _page_data(page: Path, run_id: int) -> dict[str, Any]:
    m = re.search(r'<script type="application/json" id="wattwise-data">(.*?)</script>',
                  page.read_text(), re.S)
    assert m
    data: dict[str, Any] = json.loads(m.group(1))["data"]
    return data


def _forget_trace_digest(db: Path, run_id: int) -> None:
    """The run as wattwise recorded it before trace digests were kept."""
    import sqlite3

    assert Store(db).get_run(run_id).summary  # this process's queued writes are in
    con = sqlite3.connect(db)
    with con:
        (text,) = con.execute("SELECT summary_json FROM runs WHERE id = ?", (run_id,)).fetchone()
        summary = json.loads(text)
        del summary["carbon_options"]["intensity_trace_sha256"]
        con.execute("UPDATE runs SET summary_json = ? WHERE id = ?",
                    (json.dumps(summary), run_id))
    con.close()


def test_a_run_records_the_sha256_of_the_trace_it_was_priced_with(tmp_path: Path) -> None:
    import hashlib

    trace = _trace(tmp_path / "tx.csv", 150)
    db = tmp_path / "r.db"
    run_id = _record(db, zone="DE", intensity_trace=trace)
    options = Store(db).get_run(run_id).summary["carbon_options"]
    assert options["intensity_trace_sha256"] == hashlib.sha256(trace.read_bytes()).hexdigest()


@pytest.mark.parametrize("digest", ["recorded", "older run without one"])
def test_report_of_a_run_whose_trace_was_edited_keeps_the_recorded_intensities(
    tmp_path: Path, digest: str
) -> None:
    trace = _trace(tmp_path / "tx.csv", 150)
    db = tmp_path / "r.db"
    run_id = _record(db, zone="DE", intensity_trace=trace)
    if digest != "recorded":
        _forget_trace_digest(db, run_id)
    recorded = Store(db).get_run(run_id).summary["emissions"]
    _trace(trace, 900)  # edited after the run
    page = tmp_path / "tx.html"
    out = json.loads(_invoke("report", str(run_id), "--json", "--html", str(page),
                             "--db", str(db)).stdout)
    assert out["emissions"]["emissions_g"] == pytest.approx(recorded["emissions_g"], rel=1e-9)
    assert out["emissions"]["avg_intensity_g_per_kwh"] == pytest.approx(150)
    note = f"the trace {trace} changed since the run; priced with the intensities recorded " \
           "with the run"
    assert note in out["emissions"]["notes"]
    printed = _invoke("report", str(run_id), "--db", str(db)).stdout
    assert note in _flat(printed)
    data = _page_data(page, run_id)
    summary = data[f"/api/runs/{run_id}"]["run"]["summary"]
    assert summary["emissions"]["emissions_g"] == out["emissions"]["emissions_g"]
    assert note in summary["notes"]


@pytest.mark.parametrize("digest", ["recorded", "older run without one"])
def test_report_of_a_run_whose_trace_is_unchanged_reads_the_trace_without_a_note(
    tmp_path: Path, digest: str
) -> None:
    trace = _trace(tmp_path / "tx.csv", 150)
    db = tmp_path / "r.db"
    run_id = _record(db, zone="DE", intensity_trace=trace)
    if digest != "recorded":
        _forget_trace_digest(db, run_id)
    recorded = Store(db).get_run(run_id).summary["emissions"]
    out = json.loads(_invoke("report", str(run_id), "--json", "--db", str(db)).stdout)
    assert out["emissions"]["emissions_g"] == pytest.approx(recorded["emissions_g"], rel=1e-9)
    assert out["emissions"]["source"] == recorded["source"]  # the trace itself, read again
    assert not any("changed" in n for n in out["emissions"]["notes"])


def test_naming_the_edited_trace_again_prices_with_it_as_it_is_now_and_says_so(
    tmp_path: Path,
) -> None:
    trace = _trace(tmp_path / "tx.csv", 150)
    db = tmp_path / "r.db"
    run_id = _record(db, zone="DE", intensity_trace=trace)
    _trace(trace, 900)
    out = json.loads(_invoke("report", str(run_id), "--zone", "DE", "--intensity-trace",
                             str(trace), "--json", "--db", str(db)).stdout)
    assert out["emissions"]["avg_intensity_g_per_kwh"] == pytest.approx(900)
    assert any(f"the trace {trace} changed since the run; priced with it as it is now" in n
               for n in out["emissions"]["notes"])


# -- a zone from the environment (F2) --------------------------------------------------


def test_a_run_recorded_at_the_world_average_priced_by_wattwise_zone_says_so_in_full(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = tmp_path / "r.db"
    run_id = _record(db)
    recorded = Store(db).get_run(run_id).summary["emissions"]
    assert recorded["zone"] == "WORLD"
    monkeypatch.setenv("WATTWISE_ZONE", "DE")
    page = tmp_path / "r1env.html"
    out = json.loads(_invoke("report", str(run_id), "--json", "--html", str(page),
                             "--db", str(db)).stdout)
    note = "priced at DE (from $WATTWISE_ZONE), recorded at the world average"
    assert out["emissions"]["zone"] == "DE" and note in out["emissions"]["notes"]
    assert out["emissions"]["emissions_g"] != pytest.approx(recorded["emissions_g"])
    assert note in _flat(_invoke("report", str(run_id), "--db", str(db)).stdout)
    # the page shows what report printed, not the record
    data = _page_data(page, run_id)
    summary = data[f"/api/runs/{run_id}"]["run"]["summary"]
    assert summary["emissions"]["zone"] == "DE"
    assert summary["emissions"]["emissions_g"] == out["emissions"]["emissions_g"]
    (row,) = data["/api/runs?limit=100"]["runs"]
    assert row["zone"] == "DE" and row["emissions_g"] == out["emissions"]["emissions_g"]
    assert note in summary["notes"]


def test_a_zone_from_the_config_file_is_named_with_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = tmp_path / "r.db"
    run_id = _record(db)
    config = tmp_path / "config" / "wattwise" / "config.toml"
    config.parent.mkdir(parents=True)
    config.write_text('zone = "FR"\n')
    out = json.loads(_invoke("report", str(run_id), "--json", "--db", str(db)).stdout)
    assert out["emissions"]["zone"] == "FR"
    assert f"priced at FR (from {config}), recorded at the world average" in \
        out["emissions"]["notes"]


def test_a_run_recorded_with_a_zone_keeps_it_whatever_wattwise_zone_says(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = tmp_path / "r.db"
    run_id = _record(db, zone="DE")
    recorded = Store(db).get_run(run_id).summary["emissions"]
    monkeypatch.setenv("WATTWISE_ZONE", "FR")
    out = json.loads(_invoke("report", str(run_id), "--json", "--db", str(db)).stdout)
    assert out["emissions"]["zone"] == "DE"
    assert out["emissions"]["emissions_g"] == pytest.approx(recorded["emissions_g"], rel=1e-9)
    assert not any("priced at" in n for n in out["emissions"]["notes"])


# -- what show says, report says too (F4) ----------------------------------------------


def test_report_gives_the_energy_range_and_the_process_tree_share_as_show_does(
    tmp_path: Path,
) -> None:
    db = tmp_path / "r.db"
    sensor = ConstantPowerSensor({"gpu0": 80.0}, kind="estimated", spread=0.25,
                                 component="gpu")
    with wattwise.track("est", db=db, sensors=[sensor], interval_s=0.05, zone="DE") as run:
        time.sleep(0.2)
    run_id = int(run.run_id or 0)
    summary = Store(db).get_run(run_id).summary
    out = json.loads(_invoke("report", str(run_id), "--json", "--db", str(db)).stdout)
    assert out["low_j"] == summary["low_j"] and out["high_j"] == summary["high_j"]
    assert out["low_j"] < out["energy_j"] < out["high_j"]
    # its CPU times as stored; no share of CPU energy: it measured no CPU domain (its 0 J
    # of CPU energy was given as a share)
    from wattwise.records.stored_attribution import NO_CPU_DOMAIN

    stored, got = summary["attribution"], out["attribution"]
    assert stored["cpu_energy_j"] == 0 and got["cpu_energy_j"] is None, got
    assert got["energy_note"] == NO_CPU_DOMAIN and got["share"] == stored["share"]
    assert out["duration_s"] == summary["duration_s"]
    shown = _flat(_invoke("show", str(run_id), "--db", str(db)).stdout)
    printed = _flat(_invoke("report", str(run_id), "--db", str(db)).stdout)
    rng = f"({summary['low_j']:.1f}-{summary['high_j']:.1f})"
    assert rng in shown and rng in printed
    tree = re.search(r"process tree: .*?energy to share\.", shown)
    assert tree and tree.group(0) in printed and NO_CPU_DOMAIN in tree.group(0)


# -- a run priced on the offline typical week (F11) ------------------------------------


@pytest.mark.parametrize("tagged", [True, False])
def test_report_says_a_typical_week_price_is_an_offline_estimate(
    tmp_path: Path, tagged: bool
) -> None:
    trace = _trace(tmp_path / "typical-week-DE.csv", 300)
    db = tmp_path / "r.db"
    sensor = ConstantPowerSensor({"cpu:package": 40.0})
    said = ("the DE typical-week profile of 2020 (offline), not a forecast of today's grid, "
            "as the plan was: an estimate of the usual grid, not its measured intensity")
    tags = {"priced_on": said} if tagged else {}
    with wattwise.track("planned", db=db, sensors=[sensor], interval_s=0.05, zone="DE",
                        intensity_trace=trace, tags=tags) as run:
        time.sleep(0.1)
    printed = _flat(_invoke("report", str(run.run_id), "--db", str(db)).stdout)
    out = json.loads(_invoke("report", str(run.run_id), "--json", "--db", str(db)).stdout)
    assert "priced on:" in printed and "offline" in printed
    assert "offline" in out["emissions"]["priced_on"]
    if tagged:
        assert out["emissions"]["priced_on"] == said
    # an option that prices it anew is not the typical week any more
    fr = json.loads(_invoke("report", str(run.run_id), "--zone", "FR", "--json",
                            "--db", str(db)).stdout)
    assert "priced_on" not in fr["emissions"]
