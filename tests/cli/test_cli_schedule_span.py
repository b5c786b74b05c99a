"""`wattwise simulate` says which dates it replayed (in the table, --csv and --json), and
its default is a quick look that says what it covers, the year-long study behind --full."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import typer
from typer.testing import CliRunner

from wattwise.cli import schedule

app = typer.Typer()
schedule.register(app)
runner = CliRunner()

#: One cheap simulation: one zone, one scenario, one noise level, one strategy.
CHEAP = ["simulate", "--zone", "GB", "--scenario", "nightly", "--flex", "1", "--noise", "0",
         "--forecaster", "persistence-last", "--strategy", "once"]


def test_the_table_names_the_dates_replayed_and_what_the_trace_covers() -> None:
    r = runner.invoke(app, [*CHEAP, "--start", "2020-03-01", "--end", "2020-03-08"],
                      env={"COLUMNS": "300"})
    assert r.exit_code == 0, r.output
    out = " ".join(r.stdout.split())
    assert "replayed 2020-03-01 00:00:00Z to 2020-03-08 00:00:00Z (7 days)" in out
    assert ("GB: replayed 2020-03-01 00:00:00Z to 2020-03-08 00:00:00Z (7 days, as given "
            "by --start/--end); jobs from 2020-03-01 00:00:00Z to 2020-03-07 03:00:00Z; the "
            "trace covers 2019-12-20 00:00:00Z to 2021-01-10 00:00:00Z") in out
    assert "default: the first" not in out


def test_json_and_csv_carry_the_same_dates(tmp_path: Path) -> None:
    args = [*CHEAP, "--start", "2020-03-01", "--end", "2020-03-08"]
    out = tmp_path / "sim.csv"
    r = runner.invoke(app, [*args, "--json", "--csv", str(out)])
    assert r.exit_code == 0, r.output
    (row,) = json.loads(r.stdout)
    assert row["span"] == "as given by --start/--end"
    assert (row["span_start_utc"], row["span_end_utc"], row["span_days"]) == (
        "2020-03-01 00:00:00Z", "2020-03-08 00:00:00Z", 7.0)
    # Europe/London is UTC in early March: a 1-hour job due at 01:00 and movable by 1 h
    # has the window 00:00-03:00, every night from 1 to 7 March.
    assert (row["jobs_start_utc"], row["jobs_end_utc"]) == (
        "2020-03-01 00:00:00Z", "2020-03-07 03:00:00Z")
    assert (row["trace_start_utc"], row["trace_end_utc"]) == (
        "2019-12-20 00:00:00Z", "2021-01-10 00:00:00Z")
    assert row["n_jobs"] == 7
    (line,) = list(csv.DictReader(io.StringIO(out.read_text())))
    for key in ("span", "span_start_utc", "span_end_utc", "jobs_start_utc", "jobs_end_utc",
                "trace_start_utc", "trace_end_utc"):
        assert line[key] == str(row[key]), key
    assert float(line["span_days"]) == row["span_days"]


def test_the_default_is_a_quick_span_that_says_so() -> None:
    r = runner.invoke(app, [*CHEAP, "--json"])
    assert r.exit_code == 0, r.output
    (row,) = json.loads(r.stdout)
    assert row["span"] == f"quick default: the first {schedule.QUICK_DAYS} days"
    assert row["span_days"] == schedule.QUICK_DAYS
    # 12 days of forecaster history after the trace's first hour (2019-12-20 00:00Z).
    assert row["span_start_utc"] == "2020-01-01 00:00:00Z"
    assert row["span_end_utc"] == "2020-01-15 00:00:00Z"  # QUICK_DAYS = 14
    assert row["n_jobs"] <= schedule.QUICK_DAYS
    table = runner.invoke(app, CHEAP, env={"COLUMNS": "300"})
    assert table.exit_code == 0, table.output
    out = " ".join(table.stdout.split())
    assert f"default: the first {schedule.QUICK_DAYS} days of each trace" in out
    assert "--full replays the whole year" in out


def test_full_replays_the_year_as_the_default_did() -> None:
    full = runner.invoke(app, [*CHEAP, "--full", "--json"])
    assert full.exit_code == 0, full.output
    (row,) = json.loads(full.stdout)
    assert row["span"] == "full year"
    assert row["span_end_utc"] == "2021-01-01 00:00:00Z"
    # The same span given explicitly gives the same figures: --full changes nothing else.
    given = runner.invoke(app, [*CHEAP, "--start", row["span_start_utc"], "--json"])
    assert given.exit_code == 0, given.output
    (same,) = json.loads(given.stdout)
    for key in ("n_jobs", "baseline_g", "strategy_g", "optimum_g", "span_start_utc",
                "span_end_utc", "jobs_start_utc", "jobs_end_utc"):
        assert same[key] == row[key], key


def test_full_with_a_span_is_refused_in_one_line() -> None:
    r = runner.invoke(app, [*CHEAP, "--full", "--start", "2020-03-01"])
    assert r.exit_code == 2 and r.stdout == ""
    lines = [x for x in r.stderr.splitlines() if x.strip()]
    assert lines == ["wattwise: error: --full replays each trace's whole year; give it "
                     "without --start/--end"]


def test_a_start_without_an_end_says_where_the_end_came_from() -> None:
    r = runner.invoke(app, [*CHEAP, "--start", "2020-12-28", "--json"])
    assert r.exit_code == 0, r.output
    (row,) = json.loads(r.stdout)
    assert row["span"] == "from --start to the trace's year end (or its end)"
    assert row["span_end_utc"] == "2021-01-01 00:00:00Z"
