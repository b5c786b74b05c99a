"""The attribution line says what the run's total covers, and its numbers add up to it."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest

import wattwise
from tests.fixtures.fake_sensors import ConstantPowerSensor
from wattwise.cli.render import summary_lines


def test_the_attribution_line_agrees_with_the_total(tmp_path: Path) -> None:
    sensor = ConstantPowerSensor({"cpu:0": 20.0, "dram:0": 5.0})
    with wattwise.track("t", db=tmp_path / "r.db", sensors=[sensor], interval_s=0.02) as run:
        time.sleep(0.1)
    summary = run.summary()
    (line,) = [ln for ln in summary_lines(summary) if ln.startswith("process tree")]
    a = summary["attribution"]
    assert a["attributed_cpu_energy_j"] + a["unattributed_cpu_energy_j"] == pytest.approx(
        a["cpu_energy_j"])
    assert a["cpu_energy_j"] <= summary["energy_j"] + 1e-9
    # what the line claims: both parts are inside the total, which the emissions price
    assert "not in the total" not in line
    assert "inside the total" in line and "emissions price the whole total" in line
    shown = [float(x) for x in re.findall(r"(\d+\.\d) J", line)]
    assert shown[0] == round(a["cpu_energy_j"], 1)
    assert "to other processes" not in str(run.result)
    assert f"of the {a['cpu_energy_j']:.1f} J of CPU energy in the total" in str(run.result)
