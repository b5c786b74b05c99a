"""Careless values to `simulate`, `defer` and `plan`: each is refused in one line on
stderr, exit code 2, nothing on stdout, before any work; none is dropped or reread
silently."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from wattwise.cli import schedule

app = typer.Typer()
schedule.register(app)
runner = CliRunner()

SIM = ["simulate", "--zone", "FR", "--scenario", "nightly", "--start", "2020-03-01",
       "--end", "2020-03-03", "--forecaster", "persistence-last"]
DEFER = ["defer", "--within", "8h", "--duration", "1h", "-z", "GB", "--dry-run", "--no-store"]


def _refused(args: list[str], expected: str) -> None:
    r = runner.invoke(app, args, env={"COLUMNS": "300"})
    assert r.exit_code == 2, r.output
    assert r.stdout == "", r.stdout
    assert "Traceback" not in r.stderr
    lines = [x for x in r.stderr.splitlines() if x.strip()]
    assert len(lines) == 1 and lines[0].startswith("wattwise: error: "), r.stderr
    assert expected in lines[0], lines[0]


@pytest.mark.parametrize(("args", "expected"), [
    (["--flex", "1,,2"], "--flex must be comma-separated numbers without an empty item "
                         "(item 2 of 3 in '1,,2')"),
    (["--flex", "1,"], "--flex must be comma-separated numbers without an empty item "
                       "(item 2 of 2 in '1,')"),
    (["--noise", ",5"], "--noise must be comma-separated numbers without an empty item "
                        "(item 1 of 2 in ',5')"),
    (["--noise", "0, ,10"], "(item 2 of 3 in '0, ,10')"),
    (["--strategy", "once,"], "--strategy has an empty item (item 2 of 2 in 'once,')"),
    (["--strategy", ",replan"], "--strategy has an empty item (item 1 of 2"),
    (["--strategy", ","], "--strategy must name at least one value"),
])
def test_simulate_refuses_an_empty_item_in_any_list(args: list[str], expected: str) -> None:
    _refused([*SIM, *args], expected)


@pytest.mark.parametrize(("args", "expected"), [
    (["--flex", "1,1.0"], "--flex names 1 twice; give each value once"),
    (["--noise", "0,0"], "--noise names 0 twice; give each value once"),
    (["--strategy", "once,once"], "--strategy names a strategy twice"),
    (["--flex", "1_0"], "--flex must be comma-separated numbers, got '1_0'"),
    (["--flex", "infinity"], "--flex must be comma-separated numbers"),
    (["--noise", "0x10"], "--noise must be comma-separated numbers"),
])
def test_simulate_refuses_repeated_or_odd_numbers(args: list[str], expected: str) -> None:
    _refused([*SIM, *args], expected)


def test_simulate_reads_plain_decimals_in_every_form() -> None:
    r = runner.invoke(app, [*SIM, "--flex", ".5, 2.,1e0", "--noise", "0", "--strategy",
                            "once", "--json"])
    assert r.exit_code == 0, r.output
    rows = json.loads(r.stdout)
    assert sorted(row["scenario"] for row in rows) == [
        "nightly ±0.5h non-interruptible", "nightly ±1h non-interruptible",
        "nightly ±2h non-interruptible"]


@pytest.mark.parametrize("extra", [["--min-chunk", "30m"], ["--resume-cost", "5m"]])
def test_defer_refuses_chunk_options_for_a_job_that_cannot_pause(extra: list[str]) -> None:
    _refused([*DEFER, *extra, "--", "true"],
             "--min-chunk and --resume-cost apply to an --interruptible job")


def test_defer_takes_chunk_options_with_interruptible() -> None:
    r = runner.invoke(app, [*DEFER, "--interruptible", "--min-chunk", "30m", "--", "true"])
    assert r.exit_code == 0, r.output


JOB = {"name": "a", "duration": "1h", "within": "8h", "zones": ["GB"]}


@pytest.mark.parametrize(("content", "expected"), [
    (json.dumps([JOB]), 'expected {"jobs": [...]}, an object at the top level, got a JSON list'),
    (json.dumps({"jobs": [{**JOB, "power_w": 0}]}),
     "a: power_w must be a number from 0 to 1e+09, more than 0 (a job drawing 0 W has no "
     "carbon to plan by), got 0"),
    (json.dumps({"jobs": [{**JOB, "power_w": -5}]}), "a: power_w must be a number from 0 to"),
    (json.dumps({"jobs": [{**JOB, "power_w": True}]}), "a: power_w must be a number, got"),
    (json.dumps({"jobs": [JOB]}).replace('"zones"', '"power_w": 1e999, "zones"'),
     "a: power_w must be a number from 0"),  # a JSON number too big for a float: inf
    (json.dumps({"jobs": [JOB]}).replace('"zones"', '"power_w": NaN, "zones"'),
     "NaN is not a JSON number"),
    (json.dumps({"jobs": [{**JOB, "energy_kwh": 0}]}), "a: energy_kwh must be a number from 0"),
])
def test_plan_refuses_a_bare_list_and_a_job_that_draws_nothing(
    tmp_path: Path, content: str, expected: str
) -> None:
    jobs = tmp_path / "jobs.json"
    jobs.write_text(content)
    _refused(["plan", str(jobs)], expected)
