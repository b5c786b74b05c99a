"""`wattwise simulate` and `wattwise defer`, as a user types them."""

from __future__ import annotations

import csv
import io
import json
import sqlite3
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from tests.fixtures.hourly_trace import write_hourly_trace
from wattwise.cli import schedule

app = typer.Typer()
schedule.register(app)
runner = CliRunner()


def test_simulate_prints_a_table_and_writes_csv(tmp_path: Path) -> None:
    out = tmp_path / "sim.csv"
    r = runner.invoke(app, ["simulate", "--zone", "FR", "--scenario", "nightly", "--flex", "4",
                            "--noise", "0,10", "--start", "2020-03-01", "--end", "2020-04-01",
                            "--csv", str(out)])
    assert r.exit_code == 0, r.output
    assert "FR" in r.output and "source: trace:fr_2020" in r.output
    rows = list(csv.DictReader(io.StringIO(out.read_text())))
    assert [(row["noise_pct"], row["strategy"]) for row in rows] == [
        ("0.0", "once"), ("0.0", "replan"), ("10.0", "once"), ("10.0", "replan")]
    assert all(float(row["optimum_g"]) <= float(row["strategy_g"]) for row in rows)
    assert rows[0]["kind"] == "simulated from trace"
    assert "once" in r.output and "replan" in r.output and "oracle" in r.output


def test_simulate_rejects_unknown_scenario() -> None:
    r = runner.invoke(app, ["simulate", "--scenario", "weekly"])
    assert r.exit_code == 2 and "--scenario must be" in r.output


def test_defer_really_delays_then_runs_the_command(tmp_path: Path) -> None:
    now = int(time.time())
    # A forecast at 1-second steps whose cleanest 1-s window starts 2 s from now.
    values = [500, 500, 10, 500, 500, 500, 500, 500, 500, 500, 500, 500]
    fc = tmp_path / "fc.csv"
    fc.write_text("Time,Carbon Intensity\n" +
                  "".join(f"{now + i},{v}\n" for i, v in enumerate(values)))
    marker = tmp_path / "started"
    r = runner.invoke(app, [
        "defer", "--within", "6s", "--duration", "1s", "--zone", "GB",
        "--intensity-trace", str(fc), "--no-store", "--",
        sys.executable, "-c", f"import time; open({str(marker)!r}, 'w').write(repr(time.time()))",
    ])
    assert r.exit_code == 0, r.output
    assert float(marker.read_text()) >= now + 2
    assert "start at" in r.output


def test_defer_with_impossible_window_is_one_line_exit_2(tmp_path: Path) -> None:
    r = runner.invoke(app, ["defer", "--within", "1h", "--duration", "2h", "--zone", "GB",
                            "--intensity-trace", str(tmp_path / "x.csv"), "--", "true"])
    assert r.exit_code == 2
    assert "wattwise: error:" in r.output


def test_defer_rejects_unreadable_durations() -> None:
    r = runner.invoke(app, ["defer", "--within", "eight", "--duration", "2h", "--", "true"])
    assert r.exit_code == 2 and "cannot read duration 'eight'" in r.output


def test_defer_without_forecast_uses_the_labelled_typical_week() -> None:
    r = runner.invoke(app, ["defer", "--within", "8h", "--duration", "1h", "--zone", "FR",
                            "--dry-run", "--no-store", "--", "true"])
    assert r.exit_code == 0, r.output
    out = " ".join(r.output.split())  # the console wraps long lines
    assert "typical-week profile of 2020 (offline), not a forecast of today's grid" in out
    assert " run " in out


def test_defer_no_store_with_a_db_says_the_db_is_not_used(tmp_path: Path) -> None:
    db = tmp_path / "ns.db"
    r = runner.invoke(app, ["defer", "--within", "8h", "--duration", "1h", "--zone", "FR",
                            "--dry-run", "--no-store", "--db", str(db), "--", "true"])
    assert r.exit_code == 0, r.output
    assert "--no-store: nothing is recorded in" in " ".join(r.output.split())
    assert not db.exists()


def test_defer_without_forecast_elsewhere_says_what_to_pass() -> None:
    r = runner.invoke(app, ["defer", "--within", "8h", "--duration", "1h", "--zone", "PL",
                            "--dry-run", "--", "true"])
    assert r.exit_code == 2
    out = " ".join(r.output.split())
    assert "--intensity-trace FILE" in out and "--intensity-provider NAME" in out


def test_defer_with_a_provider_plans_on_its_forecast(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    from wattwise.carbon import providers
    from wattwise.carbon.providers._http import Request, Response

    t0 = (int(time.time()) // 1800 - 1) * 1800
    dip = t0 + 12 * 1800  # 5.5-6 h from the period that holds now
    periods = [{"from": _iso(t0 + i * 1800), "to": _iso(t0 + (i + 1) * 1800),
                "intensity": {"forecast": 40 if dip <= t0 + i * 1800 < dip + 3600 else 300,
                              "actual": None, "index": "moderate"}} for i in range(96)]
    body = json.dumps({"data": periods}).encode()
    asked: list[str] = []

    def transport(request: Request) -> Response:
        asked.append(request.url)
        return Response(200, body)

    class RecordedUK(providers.UKCarbonIntensity):
        def __init__(self) -> None:
            super().__init__(transport=transport,
                             cache=providers.IntensityCache(tmp_path / "cache"))

    monkeypatch.setitem(providers.PROVIDERS, "ukcarbon", RecordedUK)
    r = runner.invoke(app, ["defer", "--within", "12h", "--duration", "1h", "--zone", "GB",
                            "--intensity-provider", "ukcarbon", "--dry-run", "--no-store",
                            "--", "true"])
    assert r.exit_code == 0, r.output
    assert len(asked) == 1 and "/fw48h" in asked[0]
    out = " ".join(r.output.split())
    assert "ukcarbon:carbonintensity.org.uk" in out
    start = datetime.fromtimestamp(dip, tz=timezone.utc).strftime("%Y-%m-%d %H:%M:%SZ")
    assert f"run {start}" in out
    assert "typical-week" not in out


def _iso(t: float) -> str:
    return datetime.fromtimestamp(t, tz=timezone.utc).strftime("%Y-%m-%dT%H:%MZ")


def _hour_trace(path: Path, values: list[float]) -> Path:
    return write_hourly_trace(path, 3600 * (int(time.time()) // 3600), values)


def test_plan_places_each_job_and_says_what_it_rests_on(tmp_path: Path) -> None:
    jobs = tmp_path / "jobs.json"
    jobs.write_text(json.dumps({"jobs": [
        {"name": "train", "duration": "2h", "within": "12h", "power_w": 500,
         "zones": ["DE", "FR"]},
        {"name": "eval", "duration": "30m", "within": "6h", "zone": "DE"},
    ]}))
    de = _hour_trace(tmp_path / "de.csv", [400.0] * 3 + [100.0] * 21)
    fr = _hour_trace(tmp_path / "fr.csv", [250.0] * 24)
    r = runner.invoke(app, ["plan", str(jobs), "--intensity-trace", f"DE={de}",
                            "--intensity-trace", f"FR={fr}", "--json"])
    assert r.exit_code == 0, r.output
    out = json.loads(r.output)
    by = {a["job"]: a for a in out["assignments"]}
    assert by["train"]["zone"] == "DE" and by["eval"]["zone"] == "DE"
    assert out["kind"] == "estimated" and out["expected_g"] < out["baseline_g"]
    assert any("1 kW reference" in n for n in out["notes_input"])
    r = runner.invoke(app, ["plan", str(jobs), "--intensity-trace", f"DE={de}",
                            "--intensity-trace", f"FR={fr}"], env={"COLUMNS": "200"})
    assert r.exit_code == 0 and "estimated from forecasts, not measured" in r.output


@pytest.mark.parametrize(("args", "msg"), [
    (["--capacity", "DE=zero"], "--capacity DE=zero: N must be a whole number"),
    (["--intensity-trace", "DE"], "--intensity-trace must be ZONE=VALUE"),
    (["--run"], "no command for job(s) eval"),
])
def test_plan_bad_input_is_one_line(tmp_path: Path, args: list[str], msg: str) -> None:
    jobs = tmp_path / "jobs.json"
    jobs.write_text(json.dumps({"jobs": [
        {"name": "eval", "duration": "30m", "within": "6h", "zone": "DE"}]}))
    r = runner.invoke(app, ["plan", str(jobs), *args])
    assert r.exit_code == 2 and msg in r.output


def test_simulate_names_each_zones_own_trace_in_its_footer() -> None:
    r = runner.invoke(app, ["simulate", "--zone", "DE", "--zone", "FR", "--scenario", "nightly",
                            "--flex", "1", "--noise", "0", "--start", "2020-03-01",
                            "--end", "2020-03-08"])
    assert r.exit_code == 0, r.output
    footer = " ".join(r.output[r.output.rindex("source:"):].split())
    assert footer.startswith("source: trace:ger_2020") and "trace:fr_2020" in footer
    assert footer.count("[DE]") == 1 and footer.count("[FR]") == 1


def test_simulate_full_span_stays_inside_the_traces_year() -> None:
    # The shipped traces run on into 2021-01-09 as padding; the full year must not plan
    # nightly jobs there (2020 has 366 days, so at most 366 nightly jobs).
    r = runner.invoke(app, ["simulate", "--zone", "GB", "--scenario", "nightly", "--flex", "1",
                            "--noise", "0", "--forecaster", "persistence-last", "--json",
                            "--strategy", "once", "--full"])
    assert r.exit_code == 0, r.output
    (row,) = json.loads(r.output)
    assert 360 <= row["n_jobs"] <= 366


def test_defer_prices_the_run_on_its_trace_names_it_and_says_planned_vs_realised(
    tmp_path: Path,
) -> None:
    from wattwise.records.store import Store

    fc = write_hourly_trace(tmp_path / "fc.csv", 3600 * (int(time.time()) // 3600 - 1),
                            [100.0] * 6)
    db = tmp_path / "r.db"
    r = runner.invoke(app, [
        "defer", "--within", "3s", "--duration", "1s", "--zone", "DE",
        "--intensity-trace", str(fc), "--db", str(db), "--",
        sys.executable, "-c", "import time; time.sleep(1.2)",
    ])
    assert r.exit_code == 0, r.output
    out = " ".join(r.output.split())
    assert ("planned 100.0 gCO2eq/kWh (forecast, from trace:fc.csv), realised 100.0 "
            "gCO2eq/kWh (as priced in the run record, on trace fc.csv") in out
    (info,) = Store(db).list_runs()
    assert info.name == Path(sys.executable).name
    assert info.summary is not None
    assert info.summary["emissions"]["avg_intensity_g_per_kwh"] == pytest.approx(100.0)


def test_plan_keeps_a_job_where_it_was_for_a_trivial_saving_and_says_why(
    tmp_path: Path,
) -> None:
    jobs = tmp_path / "jobs.json"
    jobs.write_text(json.dumps({"jobs": [
        {"name": "flat", "duration": "1h", "within": "12h", "zone": "DE"}]}))
    # Later hours are 0.3 % cleaner: within the 1 % bar, so the job starts now.
    de = _hour_trace(tmp_path / "de.csv", [300.0] * 3 + [299.0] * 21)
    r = runner.invoke(app, ["plan", str(jobs), "--intensity-trace", f"DE={de}"],
                      env={"COLUMNS": "200"})
    assert r.exit_code == 0, r.output
    out = " ".join(r.output.split())
    assert "note: flat: not moved: the forecast saving of" in out
    assert "does not exceed the 1 % threshold" in out


def test_simulate_expresses_the_oracle_setup_and_reports_the_oracle_next_to_each_strategy(
) -> None:
    args = ["simulate", "--zone", "DE", "--zone", "FR", "--scenario", "nightly", "--flex", "2,8",
            "--job-duration", "30m", "--due", "01:00", "--utc", "--slot", "30m",
            "--noise", "0,5", "--noise-kind", "additive", "--forecaster", "perfect",
            "--start", "2020-03-01", "--end", "2020-03-11"]
    r = runner.invoke(app, [*args, "--json"])
    assert r.exit_code == 0, r.output
    rows = json.loads(r.output)
    assert len(rows) == 2 * 2 * 2 * 2  # zones x flex x noise x strategies
    for row in rows:
        for key in ("scenario", "zone", "forecaster", "optimum_saving_pct", "realised_pct",
                    "strategy", "noise_kind", "slot_s"):
            assert key in row
        assert row["scenario"].startswith("nightly 30m at 01:00 UTC ±")
        assert row["noise_kind"] == "additive" and row["slot_s"] == 1800.0
        if row["noise_pct"] == 0:
            assert row["realised_pct"] == pytest.approx(100.0)  # the oracle itself
    assert [row["zone"] for row in rows][:8] == ["DE"] * 8  # one table, zone by zone
    table = runner.invoke(app, args)
    assert table.exit_code == 0, table.output
    assert "oracle" in table.output and "simulated in" in table.output
    assert "(100 %)" in table.output  # the noiseless perfect forecast realises it all
    assert table.output.count("DE") >= 4 and table.output.count("FR") >= 4


@pytest.mark.parametrize(("args", "msg"), [
    (["--due", "25:00"], "--due must be a time of day from 00:00 to 23:59"),
    (["--due", "1am"], "--due must be a time of day HH:MM"),
    (["--job-duration", "30s"], "--job-duration must be from 1 minutes to 24 hours"),
    (["--job-duration", "soon"], "cannot read duration"),
    (["--slot", "2d"], "--slot must be from 1 minutes to 24 hours"),
    (["--noise-kind", "loud"], "--noise-kind must be multiplicative or additive"),
    (["--strategy", "never"], "--strategy must be one or more of once, replan, replan-lowest"),
    (["--p-min", "1.5"], "p_min must be a probability from 0 to 1"),
    (["--forecaster", "crystal-ball"], "unknown forecaster 'crystal-ball'"),
])
def test_simulate_refuses_bad_oracle_setup_options_in_one_line(args: list[str], msg: str) -> None:
    r = runner.invoke(app, ["simulate", "--zone", "FR", *args])
    assert r.exit_code == 2 and msg in r.output


def test_the_clis_default_p_min_is_the_calibrated_one() -> None:
    from wattwise.schedule.confidence import P_MIN

    assert schedule.P_MIN_DEFAULT == P_MIN


def test_a_plan_prints_a_stored_run_s_name_and_kind_escaped(tmp_path: Path) -> None:
    """A like_run's name and kind reached the terminal raw: an ESC sequence coloured it,
    a U+202E reversed the line; show and report print them escaped."""
    from tests._cli_out import recorded
    from tests._damage import edit_summary

    db = tmp_path / "r.db"
    rid = recorded(db)
    edit_summary(db, rid, lambda s: s.update(kind="x\x1b[31mred\u202e", domains=["odd"]))
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE runs SET name = 'nm\x1b[32mG'")
    conn.close()
    jobs = tmp_path / "jobs.json"
    jobs.write_text(json.dumps({"jobs": [{"name": "j", "like_run": rid,
                                          "within": "6h", "zone": "DE"}]}))
    de = _hour_trace(tmp_path / "de.csv", [400.0] * 3 + [100.0] * 21)
    r = runner.invoke(app, ["plan", str(jobs), "--db", str(db), "--intensity-trace",
                            f"DE={de}"], env={"COLUMNS": "200"})
    assert r.exit_code == 0, r.output
    assert "\x1b" not in r.output and "\u202e" not in r.output, repr(r.output)
    assert "nm\\x1b[32mG" in r.output and "x\\x1b[31mred\\u202e" in r.output, r.output


def test_a_plan_s_table_takes_names_as_text(tmp_path: Path) -> None:
    """A job named "[/]" was a Rich MarkupError traceback (exit 1), "[bold red]" styled
    the cell and was dropped from the name."""
    jobs = tmp_path / "jobs.json"
    jobs.write_text(json.dumps({"jobs": [
        {"name": "[/]", "duration": "1h", "within": "6h", "zone": "DE"},
        {"name": "[bold red]x", "duration": "1h", "within": "6h", "zone": "DE"}]}))
    de = _hour_trace(tmp_path / "de.csv", [400.0] * 3 + [100.0] * 21)
    r = runner.invoke(app, ["plan", str(jobs), "--intensity-trace", f"DE={de}"],
                      env={"COLUMNS": "200"})
    assert r.exit_code == 0, r.output
    assert "[/]" in r.output and "[bold red]x" in r.output, r.output
