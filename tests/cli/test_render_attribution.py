"""The attribution line says what the run's total covers, and its numbers add up to it."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

import wattwise
from tests.fixtures.fake_sensors import ConstantPowerSensor
from wattwise.cli.render import summary_lines
from wattwise.measure.results import fmt_energies


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
    # the three as energies side by side write them (more digits where two would read
    # alike: a tree of a small share beside a busy machine's "2.0 J" and "2.0 J")
    cpu, mine, others = fmt_energies(a["cpu_energy_j"], a["attributed_cpu_energy_j"],
                                     a["unattributed_cpu_energy_j"])
    assert f"of its {cpu} of CPU energy, {mine} is this process tree's share and {others} " \
        "other processes'" in " ".join(line.split()), line
    assert "to other processes" not in str(run.result)
    assert f"-> {mine} of the {cpu} of CPU energy in the total ({others} other processes')" \
        in str(run.result), str(run.result)


@pytest.mark.parametrize(("stored", "why"), [
    (-2e15, "negative (-2e+15 J)"), (1e300, "implausibly large (1e+300 J, more than 1e+15 J)"),
    ("lots", "not a number (stored as 'lots')")])
def test_an_attribution_energy_that_is_not_usable_is_said_not_shown(
        tmp_path: Path, stored: object, why: str) -> None:
    """`show` wrote "of its -2000000000000000.0 J of CPU energy" (a 301-digit figure for
    1e300), and `/api/runs/ID` gave it raw."""
    from fastapi.testclient import TestClient
    from typer.testing import CliRunner

    from tests._damage import edit_summary
    from wattwise.cli import _register_all, app
    from wattwise.server import create_app

    db = tmp_path / "r.db"
    sensor = ConstantPowerSensor({"cpu:0": 20.0, "dram:0": 5.0})
    with wattwise.track("t", db=db, sensors=[sensor], interval_s=0.02) as run:
        time.sleep(0.05)
    edit_summary(db, run.run_id, lambda s: s["attribution"].update(cpu_energy_j=stored))
    _register_all()
    shown = CliRunner().invoke(app, ["show", str(run.run_id), "--db", str(db)],
                               env={"COLUMNS": "300"})
    assert shown.exit_code == 0, shown.output
    said = " ".join(shown.output.split())  # the line as wrapped, read whole
    assert ("no share of its CPU energy is given in joules: the stored cpu_energy_j of its "
            f"attribution is not usable: {why}.") in said, said
    assert "of CPU energy" not in said, said
    with TestClient(create_app(db), base_url="http://127.0.0.1") as client:
        a = client.get(f"/api/runs/{run.run_id}").json()["run"]["figures"]["attribution"]
    assert a["cpu_energy_j"] is None, a
    assert a["energy_note"] == f"the stored cpu_energy_j of its attribution is not usable: {why}"


@pytest.mark.parametrize(("change", "note"), [
    ({"attributed_cpu_energy_j": 4e-06, "unattributed_cpu_energy_j": 1.1e-05},
     "the stored shares of its attribution (4e-06 J and 1.1e-05 J, together 1.5e-05 J) do "
     "not add up to its stored CPU energy ({whole:g} J): not usable"),
    ({"attributed_cpu_energy_j": -2e15},
     "the stored attributed_cpu_energy_j of its attribution is not usable: negative "
     "(-2e+15 J)")])
def test_an_attribution_whose_parts_are_not_its_whole_is_said_not_shown(
        tmp_path: Path, change: dict[str, float], note: str) -> None:
    """"of its 5.0 µJ of CPU energy, 4.0 µJ is this process tree's share and 11.0 µJ
    other processes'" was shown; a damaged share was said as the CPU energy's fault."""
    from fastapi.testclient import TestClient
    from typer.testing import CliRunner

    from tests._damage import edit_summary
    from wattwise.cli import _register_all, app
    from wattwise.server import create_app

    db = tmp_path / "r.db"
    with wattwise.track("t", db=db, sensors=[ConstantPowerSensor({"cpu:0": 20.0})],
                        interval_s=0.02) as run:
        time.sleep(0.05)
    edit_summary(db, run.run_id, lambda s: s["attribution"].update(change))
    note = note.format(whole=run.summary()["attribution"]["cpu_energy_j"])
    _register_all()
    shown = CliRunner().invoke(app, ["show", str(run.run_id), "--db", str(db)],
                               env={"COLUMNS": "300"})
    said = " ".join(shown.output.split())
    assert f"no share of its CPU energy is given in joules: {note}." in said, said
    assert "of CPU energy," not in said
    with TestClient(create_app(db), base_url="http://127.0.0.1") as client:
        a = client.get(f"/api/runs/{run.run_id}").json()["run"]["figures"]["attribution"]
    assert a["energy_note"] == note and a["cpu_energy_j"] is None, a
    assert a["attributed_cpu_energy_j"] is None and a["unattributed_cpu_energy_j"] is None
