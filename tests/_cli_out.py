"""What the CLI prints, for tests that compare a run's figures and notes across outputs."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

import wattwise
from tests.fixtures.fake_sensors import ConstantPowerSensor
from wattwise.cli import _register_all, app

_register_all()


def cli_out(*args: str) -> str:
    """Stdout of a wattwise command that must succeed (wide: no table cell cut)."""
    r = CliRunner().invoke(app, list(args), env={"COLUMNS": "400"})
    assert r.exit_code == 0, (r.stdout, r.stderr, r.exception)
    return str(r.stdout)


def said(text: str) -> str:
    """``text`` with its line breaks and runs of spaces as single spaces."""
    return " ".join(text.split())


def recorded(db: Path, **sensor: Any) -> int:
    """A finished run of 0.3 s at 40 W on one CPU domain (``sensor``: the fake sensor's
    options), priced in DE; its id."""
    with wattwise.track("job", db=db, sensors=[ConstantPowerSensor({"cpu:package": 40.0},
                                                                   **sensor)],
                        interval_s=0.05, zone="DE") as run:
        time.sleep(0.3)
    assert run.flush() and run.run_id is not None  # its summary written
    return int(run.run_id)
