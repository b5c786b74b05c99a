"""`simulate` refuses the nightly job's options where no nightly job is simulated."""

from __future__ import annotations

import pytest
import typer
from typer.testing import CliRunner

from wattwise.cli import schedule

app = typer.Typer()
schedule.register(app)

ML = ["simulate", "--zone", "DE", "--scenario", "ml", "--noise", "0", "--strategy", "once"]


@pytest.mark.parametrize("extra,named", [
    (["--utc"], "--utc is"),
    (["--due", "13:00"], "--due is"),
    (["--flex", "2"], "--flex is"),
    (["--job-duration", "30m"], "--job-duration is"),
    (["--flex", "2", "--due", "01:00"], "--flex, --due are"),
])
def test_nightly_options_with_the_ml_scenario_are_refused(extra: list[str], named: str) -> None:
    r = CliRunner().invoke(app, [*ML, *extra])
    lines = [x for x in r.output.splitlines() if x.strip()]
    assert r.exit_code == 2 and len(lines) == 1, r.output
    assert lines[0].startswith(f"wattwise: error: {named} for the nightly job, which "
                               "--scenario ml leaves out")


def test_a_slot_longer_than_the_window_is_refused() -> None:
    """No nightly job could move; the oracle, on its own grid, would still show a saving."""
    r = CliRunner().invoke(app, ["simulate", "--zone", "DE", "-s", "nightly", "--flex", "4,2",
                                 "--slot", "3h"])
    lines = [x for x in r.output.splitlines() if x.strip()]
    assert r.exit_code == 2 and len(lines) == 1, r.output
    assert "--slot 3h is longer than the ±2 h window of --flex" in lines[0]


@pytest.mark.parametrize("args,says", [
    (["--within", "367d", "--duration", "1h"], "--within: duration '367d' is longer than"),
    (["--within", "2h", "--duration", "1x"], "--duration: cannot read duration '1x'"),
    (["--within", "2h", "--duration", "1h", "--name", "foo"],
     "--name names the run record, and --dry-run runs and records nothing"),
])
def test_defer_names_the_option_at_fault(args: list[str], says: str) -> None:
    r = CliRunner().invoke(app, ["defer", *args, "--zone", "DE", "--dry-run", "--", "true"])
    lines = [x for x in r.output.splitlines() if x.strip()]
    assert r.exit_code == 2 and len(lines) == 1, r.output
    assert lines[0].startswith(f"wattwise: error: {says}")


@pytest.mark.parametrize("extra,named", [
    (["-s", "nightly", "--seed", "7"], "--seed only matters"),
    (["--noise-kind", "additive"], "--noise-kind only matters"),
])
def test_noise_options_without_noise_are_refused(extra: list[str], named: str) -> None:
    r = CliRunner().invoke(app, ["simulate", "--zone", "DE", "--noise", "0", *extra])
    lines = [x for x in r.output.splitlines() if x.strip()]
    assert r.exit_code == 2 and len(lines) == 1, r.output
    assert lines[0].startswith(f"wattwise: error: {named} with forecast noise, and --noise is 0")
