"""`wattwise simulate` and `wattwise defer`, as a user types them."""

from __future__ import annotations

import csv
import io
import sys
import time
from pathlib import Path

import typer
from typer.testing import CliRunner

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
    assert [row["noise_pct"] for row in rows] == ["0.0", "10.0"]
    assert all(float(row["optimum_g"]) <= float(row["strategy_g"]) for row in rows)
    assert rows[0]["kind"] == "simulated from trace"


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
