"""A stored attribution's CPU times judged (``records.stored_attribution``): a share of
-0.5 or 2.0, or a tree's 5 CPU-s of 2.12 busy CPU-s, were printed "(-50%)", "(200%)"
and "5.00 CPU-s of 2.12 busy CPU-s (2%)" in ``show`` and on the run page."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

import wattwise
from tests.fixtures.fake_sensors import ConstantPowerSensor
from wattwise.records.stored_attribution import judged_attribution, time_fault

SOUND = {"pid": 1, "tree_cpu_s": 1.0, "machine_busy_cpu_s": 4.0, "share": 0.25,
         "cpu_energy_j": 8.0, "attributed_cpu_energy_j": 2.0, "unattributed_cpu_energy_j": 6.0}

FAULTS = [
    ({"share": -0.5}, "the stored share of its attribution is not usable: negative (-0.5)"),
    ({"share": 2.0}, "the stored share of its attribution is not usable: above 1 (2: a share "
                     "is at most all of the machine's busy CPU time)"),
    ({"share": "x"}, "the stored share of its attribution is not usable: not a finite number "
                     "(stored as 'x')"),
    ({"share": None}, "the stored share of its attribution is missing"),
    ({"tree_cpu_s": 5.0, "machine_busy_cpu_s": 2.12, "share": 0.02},
     "its stored process tree's CPU time (5 CPU-s) is above the machine's busy CPU time "
     "(2.12 CPU-s): not usable"),
    ({"tree_cpu_s": -1.0}, "the stored tree_cpu_s of its attribution is not usable: negative "
                           "(-1 CPU-s)"),
    ({"machine_busy_cpu_s": 1e300}, "the stored machine_busy_cpu_s of its attribution is not "
     "usable: implausibly large (1e+300 CPU-s, more than 1e+12 CPU-s)"),
    ({"share": 0.5}, "its stored share (0.5) is not its process tree's CPU time over the "
                     "machine's busy CPU time (1 of 4 CPU-s: 0.25): not usable"),
]


def test_a_sound_attribution_is_as_stored() -> None:
    assert time_fault(SOUND) is None and judged_attribution(SOUND) is SOUND
    idle = {**SOUND, "tree_cpu_s": 0.0, "machine_busy_cpu_s": 0.0, "share": 0.0,
            "attributed_cpu_energy_j": 0.0, "unattributed_cpu_energy_j": 8.0}
    assert judged_attribution(idle) is idle  # a machine never busy: a share of 0
    within = {**SOUND, "share": 0.25 + 1e-9}  # its rounding
    assert judged_attribution(within) is within


@pytest.mark.parametrize(("change", "note"), FAULTS)
def test_cpu_times_no_run_could_hold_give_no_figure(change: dict[str, Any], note: str) -> None:
    got = judged_attribution({**SOUND, **change})
    assert got["time_note"] == got["energy_note"] == note
    for key in ("tree_cpu_s", "machine_busy_cpu_s", "share", "cpu_energy_j",
                "attributed_cpu_energy_j", "unattributed_cpu_energy_j"):
        assert got[key] is None, key


def test_an_energy_share_that_is_not_its_time_share_is_not_shown() -> None:
    got = judged_attribution({**SOUND, "attributed_cpu_energy_j": 6.0,
                              "unattributed_cpu_energy_j": 2.0})
    assert got["energy_note"] == (
        "the stored process tree's share of its CPU energy (6 J) is not its share of the "
        "busy CPU time (0.25) of its stored CPU energy (8 J): not usable")
    assert got["cpu_energy_j"] is None and got["share"] == 0.25 and "time_note" not in got


@pytest.mark.parametrize(("change", "note"), [FAULTS[0], FAULTS[1], FAULTS[4]])
def test_show_report_and_the_api_say_it(tmp_path: Path, change: dict[str, Any],
                                        note: str) -> None:
    from fastapi.testclient import TestClient

    from tests._cli_out import cli_out
    from tests._damage import edit_summary
    from wattwise.server import create_app

    db = tmp_path / "r.db"
    with wattwise.track("t", db=db, sensors=[ConstantPowerSensor({"cpu:0": 20.0})],
                        interval_s=0.02) as run:
        time.sleep(0.05)
    edit_summary(db, run.run_id, lambda s: s["attribution"].update(change))
    line = ("process tree: no share of the machine's busy CPU time or of its CPU energy is "
            f"given: {note}.")
    for args in (["show"], ["report"]):
        said = " ".join(cli_out(*args, str(run.run_id), "--db", str(db)).split())
        assert line in said, said
        assert "%)" not in said and "CPU-s of" not in said, said
    with TestClient(create_app(db), base_url="http://127.0.0.1") as client:
        a = client.get(f"/api/runs/{run.run_id}").json()["run"]["figures"]["attribution"]
    assert a["time_note"] == note and a["share"] is None and a["tree_cpu_s"] is None, a
    reported = cli_out("report", str(run.run_id), "--json", "--db", str(db))
    assert f'"time_note": "{note}"' in reported


@pytest.mark.parametrize(("change", "note"), [
    ({"attributed_cpu_energy_j": None},
     "the stored attributed_cpu_energy_j of its attribution is missing"),
    ({"cpu_energy_j": None}, "the stored cpu_energy_j of its attribution is missing"),
    ({"cpu_energy_j": -0.0, "attributed_cpu_energy_j": 0.0, "unattributed_cpu_energy_j": 1.1e-5},
     "the stored shares of its attribution (0 J and 1.1e-05 J) do not add up to its stored "
     "CPU energy (0 J): not usable")])
def test_a_missing_energy_is_said_and_a_stored_minus_zero_is_0(change: dict[str, Any],
                                                               note: str) -> None:
    """A null share was written "-" with no word; a CPU energy of -0.0 read "(-0 J)"."""
    got = judged_attribution({**SOUND, **change})
    assert got["energy_note"] == note and got["cpu_energy_j"] is None, got
    assert judged_attribution(got) is got  # judged once: as it is
