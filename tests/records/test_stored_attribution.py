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
    ({"share": "x"}, "the stored share of its attribution is not usable: not a number "
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
    # a tree of no CPU time holds no share (1e-7 passed an absolute allowance)
    ({"tree_cpu_s": 0.0, "share": 1e-7}, "its stored share (1e-07) is not its process "
     "tree's CPU time over the machine's busy CPU time (0 of 4 CPU-s: 0): not usable"),
]


def test_a_sound_attribution_is_as_stored() -> None:
    assert time_fault(SOUND) is None and judged_attribution(SOUND) == SOUND
    idle = {**SOUND, "tree_cpu_s": 0.0, "machine_busy_cpu_s": 0.0, "share": 0.0,
            "attributed_cpu_energy_j": 0.0, "unattributed_cpu_energy_j": 8.0}
    assert judged_attribution(idle) == idle  # a machine never busy: a share of 0
    within = {**SOUND, "share": 0.25 + 1e-9}  # its rounding
    assert judged_attribution(within) == within
    # a stored -0.0 is 0 (it printed "-0.00 CPU-s ... (-0%)")
    zero = judged_attribution({**idle, "tree_cpu_s": -0.0, "share": -0.0})
    assert str(zero["tree_cpu_s"]) == str(zero["share"]) == "0.0", zero
    # within what the machine's CPUs could be busy over the run
    assert judged_attribution(SOUND, None, 2, 2.0) == SOUND


def test_a_note_stored_with_it_is_no_judgement() -> None:
    """A stored "time_note" passed a share of 2.0 as judged: "(200%)" was shown."""
    forged = {**SOUND, "share": 2.0, "tree_cpu_s": 5.0, "machine_busy_cpu_s": 2.5,
              "time_note": "nothing wrong", "energy_note": "x", "from_samples": True}
    got = judged_attribution(forged)
    assert got["share"] is None and got["from_samples"] is False, got
    assert got["time_note"].startswith("the stored share of its attribution is not usable: "
                                       "above 1 (2: "), got
    sound = judged_attribution({**SOUND, "time_note": "nothing wrong"})
    assert "time_note" not in sound and sound["share"] == 0.25, sound


@pytest.mark.parametrize(("stored", "note"), [
    ("abc", "the stored attribution is not usable: not an object (stored as 'abc')"),
    ([1, 2], "the stored attribution is not usable: not an object (stored as '[1,2]')"),
    ({}, "the stored attribution is not usable: empty")])
def test_an_attribution_that_is_no_object_is_said(stored: Any, note: str) -> None:
    """It was dropped with no word (and CodeCarbon said "it measured no process tree")."""
    got = judged_attribution(stored)
    assert got["time_note"] == note and got["share"] is None, got


@pytest.mark.parametrize(("change", "context", "note"), [
    ({"cpu_energy_j": 5000.0, "attributed_cpu_energy_j": 1250.0,
      "unattributed_cpu_energy_j": 3750.0}, ({"domains": [
          {"domain": "cpu:0", "component": "cpu", "energy_j": 4.2}]}, None, None),
     "its stored CPU energy (5000 J) is not its run's counted CPU domains' (4.2 J): not "
     "usable"),
    ({}, ({"domains": [{"domain": "cpu:0", "component": "cpu", "energy_j": 8.00004},
                       {"domain": "psys", "component": "cpu", "energy_j": 9.0,
                        "in_total": False}]}, None, None),
     "its stored CPU energy (8 J) is not its run's counted CPU domains' (8.00004 J): not "
     "usable"),
    ({"tree_cpu_s": 50.0, "machine_busy_cpu_s": 100.0, "share": 0.5,
      "attributed_cpu_energy_j": 4.0, "unattributed_cpu_energy_j": 4.0}, (None, 2, 0.1),
     "its stored busy CPU time (100 CPU-s) is more than the machine's 2 CPUs could be busy "
     "over the run's 0.1 s: not usable"),
])
def test_an_attribution_larger_than_its_run_is_not_shown(
        change: dict[str, Any], context: tuple[Any, Any, Any], note: str) -> None:
    """5000 J of CPU energy in a 4.2 J run was "both inside the total"; 100 busy CPU-s in
    a 0.1 s run on 2 CPUs were shown."""
    got = judged_attribution({**SOUND, **change}, *context)
    assert got["energy_note"] == note and got["cpu_energy_j"] is None, got
    sound = {"domains": [{"domain": "cpu:0", "component": "cpu", "energy_j": 8.0}]}
    assert judged_attribution(SOUND, sound, 2, 2.0) == SOUND


@pytest.mark.parametrize(("change", "note"), [
    ({"share": 1.000002}, "the stored share of its attribution is not usable: above 1 "
     "(1.000002: a share is at most all of the machine's busy CPU time)"),
    ({"tree_cpu_s": 0.5100044, "machine_busy_cpu_s": 0.5100036, "share": 1.0},
     "its stored process tree's CPU time (0.5100044 CPU-s) is above the machine's busy CPU "
     "time (0.5100036 CPU-s): not usable"),
    ({"share": True}, "the stored share of its attribution is not usable: not a number "
                      "(stored as 'true')"),
    ({"share": 10 ** 400}, "the stored share of its attribution is not usable: implausibly "
                           "large (an integer of about 401 digits)"),
    # as every stored figure's note says it (it was "implausibly large")
    ({"share": -10 ** 400}, "the stored share of its attribution is not usable: negative "
                            "(an integer of about 401 digits)"),
])
def test_a_fault_reads_as_one(change: dict[str, Any], note: str) -> None:
    """"above 1 (1: ...)" and "(0.510004 CPU-s) is above ... (0.510004 CPU-s)" read as no
    fault; a share stored as true was "not a finite number"."""
    assert judged_attribution({**SOUND, **change})["time_note"] == note


def test_a_run_that_measured_no_cpu_domain_gives_no_share_of_cpu_energy() -> None:
    """A run of GPU sensors alone read "of its 0.0 J of CPU energy, 0.0 J is this process
    tree's share" in show and on the page: none measured, said as none used."""
    from wattwise.records.stored_attribution import NO_CPU_DOMAIN

    none = {**SOUND, "cpu_energy_j": 0.0, "attributed_cpu_energy_j": 0.0,
            "unattributed_cpu_energy_j": 0.0}
    gpu = {"domains": [{"domain": "gpu:0", "component": "gpu", "energy_j": 8.0},
                       {"domain": "cpu:0", "component": "cpu", "energy_j": 0.0,
                        "in_total": False}]}
    got = judged_attribution(none, gpu)
    assert got["energy_note"] == NO_CPU_DOMAIN and got["cpu_energy_j"] is None, got
    assert got["share"] == 0.25 and "time_note" not in got  # its CPU times stand
    # where its stored total is not usable too (its shares from its samples read "0.0 J")
    from wattwise.records.stored_attribution import repriced_attribution

    got = repriced_attribution(none, [], "the stored energy is not usable", summary=gpu)
    assert got["energy_note"] == NO_CPU_DOMAIN and got["cpu_energy_j"] is None, got
    # a CPU domain that measured 0 J, or domains that cannot be told: as stored
    cpu = {"domains": [{"domain": "cpu:0", "component": "cpu", "energy_j": 0.0}]}
    assert judged_attribution(none, cpu) == none
    assert judged_attribution(none, {"domains": ["x"]}) == none


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
        "busy CPU time (0.25) of its stored CPU energy (8 J: 2 J): not usable")
    assert got["cpu_energy_j"] is None and got["share"] == 0.25 and "time_note" not in got


@pytest.mark.parametrize(("change", "note"), [
    FAULTS[0], FAULTS[1], FAULTS[4],
    ({**FAULTS[1][0], "time_note": "nothing wrong", "from_samples": True}, FAULTS[1][1])])
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
     "the stored shares of its attribution (0 J and 1.1e-05 J, together 1.1e-05 J) do not add "
     "up to its stored CPU energy (0 J): not usable"),
    ({"attributed_cpu_energy_j": 2.000006, "unattributed_cpu_energy_j": 6.000006},
     "the stored shares of its attribution (2.00001 J and 6.00001 J, together 8.00001 J) do "
     "not add up to its stored CPU energy (8 J): not usable")])
def test_a_missing_energy_is_said_and_a_stored_minus_zero_is_0(change: dict[str, Any],
                                                               note: str) -> None:
    """A null share was written "-" with no word; a CPU energy of -0.0 read "(-0 J)"."""
    got = judged_attribution({**SOUND, **change})
    assert got["energy_note"] == note and got["cpu_energy_j"] is None, got
    assert judged_attribution(got) is got  # judged once: as it is (report, then show)


def test_show_judges_it_against_the_run_as_every_other_output(tmp_path: Path) -> None:
    """``show`` judged it alone: "50.00 CPU-s of 100.00 busy CPU-s (50%)" in a 0.05 s run
    on 2 CPUs, where ``show --json``, ``report`` and the API said it is not usable."""
    from fastapi.testclient import TestClient

    from tests._cli_out import cli_out
    from tests._damage import edit_summary
    from wattwise.server import create_app

    db = tmp_path / "r.db"
    with wattwise.track("t", db=db, sensors=[ConstantPowerSensor({"cpu:0": 20.0})],
                        interval_s=0.02) as run:
        time.sleep(0.05)
    edit_summary(db, run.run_id, lambda s: s["attribution"].update(
        tree_cpu_s=1e6, machine_busy_cpu_s=2e6, share=0.5))
    said = " ".join(cli_out("show", str(run.run_id), "--db", str(db)).split())
    assert "process tree: no share of the machine's busy CPU time or of its CPU energy is " \
        "given: its stored busy CPU time (2e+06 CPU-s) is more than the machine's " in said, said
    assert "(50%)" not in said
    with TestClient(create_app(db), base_url="http://127.0.0.1") as client:
        a = client.get(f"/api/runs/{run.run_id}").json()["run"]["figures"]["attribution"]
    assert a["time_note"] in said and a["share"] is None, a


def test_a_cpu_energy_above_its_run_is_said_where_its_domains_cannot_be_told() -> None:
    """With no domains to compare, 5000 J of CPU energy in an 8 J run was "inside the
    total"."""
    a = {**SOUND, "cpu_energy_j": 5000.0, "attributed_cpu_energy_j": 1250.0,
         "unattributed_cpu_energy_j": 3750.0}
    got = judged_attribution(a, {"energy_j": 8.0, "domains": []})
    assert got["energy_note"] == ("its stored CPU energy (5000 J) is above its run's total "
                                  "(8 J): not usable"), got
    assert judged_attribution(SOUND, {"energy_j": 8.0, "domains": []}) == SOUND


def test_a_share_not_its_times_is_told_apart() -> None:
    """"its stored share (1) is not ... (0.2 of 0.2 CPU-s: 1)" read as no fault."""
    got = judged_attribution({**SOUND, "tree_cpu_s": 0.2, "machine_busy_cpu_s": 0.20000006,
                              "share": 1.0000008})
    assert got["time_note"] == ("its stored share (1.000001) is not its process tree's CPU "
                                "time over the machine's busy CPU time (0.2 of 0.2 CPU-s: "
                                "0.9999997): not usable"), got


def _damaged_run(tmp_path: Path, summary: Any = None, hardware: Any = None) -> tuple[Path, int]:
    import json
    import sqlite3

    from tests._damage import edit_summary

    db = tmp_path / "r.db"
    with wattwise.track("t", db=db, sensors=[ConstantPowerSensor({"cpu:0": 20.0})],
                        interval_s=0.02) as run:
        time.sleep(0.05)
    rid = int(run.run_id or 0)

    def change(s: dict[str, Any]) -> None:
        s["attribution"].update(tree_cpu_s=50.0, machine_busy_cpu_s=100.0, share=0.5)
        if summary is not None:
            summary(s)

    edit_summary(db, rid, change)
    if hardware is not None:
        conn = sqlite3.connect(db)
        hw = json.loads(conn.execute("SELECT hardware_json FROM runs WHERE id = ?",
                                     (rid,)).fetchone()[0])
        hardware(hw)
        conn.execute("UPDATE runs SET hardware_json = ? WHERE id = ?", (json.dumps(hw), rid))
        conn.commit()
        conn.close()
    return db, rid


@pytest.mark.parametrize("drop", ["null", "missing"])
def test_a_summary_without_its_duration_is_judged_over_the_run_s_start_to_end(
        tmp_path: Path, drop: str) -> None:
    """With no stored duration_s the busy-time check was skipped: every output gave
    "50.00 CPU-s of 100.00 busy CPU-s (50%)" in a 0.45 s run on 2 CPUs, beside the
    CodeCarbon export's "more than the machine's 2 CPUs could be busy"."""
    from tests._cli_out import cli_out

    def no_duration(s: dict[str, Any]) -> None:
        if drop == "null":
            s["duration_s"] = None
        else:
            del s["duration_s"]

    db, rid = _damaged_run(tmp_path, no_duration, lambda h: h.update(logical_cpus=2))
    said = " ".join(cli_out("show", str(rid), "--db", str(db)).split())
    assert "its stored busy CPU time (100 CPU-s) is more than the machine's 2 CPUs could " \
        "be busy over the run's " in said, said
    assert "(50%)" not in said


@pytest.mark.parametrize(("stored", "why"), [
    (0, "below 1 (0)"), (True, "not a number (stored as 'true')"), ("2", "not a number "
                                                                          "(stored as '2')")])
def test_a_damaged_cpu_count_hides_no_usable_one_and_is_said(
        tmp_path: Path, stored: Any, why: str) -> None:
    """A ``cpu_count`` of 0 or true hid a usable ``logical_cpus`` of 2 (the busy time was
    then judged against none); with no usable count, no output said the check was not
    made."""
    import json

    from tests._cli_out import cli_out

    db, rid = _damaged_run(tmp_path, None, lambda h: h.update(cpu_count=stored,
                                                                 logical_cpus=2))
    said = " ".join(cli_out("show", str(rid), "--db", str(db)).split())
    assert "more than the machine's 2 CPUs could be busy" in said, said
    db, rid = _damaged_run(tmp_path / "b", None, lambda h: (
        h.pop("logical_cpus", None), h.update(cpu_count=stored)))
    notes = json.loads(cli_out("show", str(rid), "--db", str(db), "--json"))["notes"]
    want = (f"its stored CPU count (the host's logical CPUs) is not usable: {why}: the "
            "process tree's CPU times are not judged against the machine's CPUs")
    assert want in notes, notes
    assert want in " ".join(cli_out("show", str(rid), "--db", str(db)).split())


@pytest.mark.parametrize(("hardware", "why"), [
    ("remove", "its CPU count (the host's logical CPUs) was not recorded"),
    ("nan", "its stored hardware cannot be read (see its note)")])
def test_no_cpu_count_to_judge_against_is_said(tmp_path: Path, hardware: str,
                                               why: str) -> None:
    """With the count removed, or the hardware's JSON holding a NaN (read as no hardware),
    "50.00 CPU-s of 100.00 busy CPU-s (50%)" of a 0.45 s run was shown with no word."""
    import json
    import sqlite3

    from tests._cli_out import cli_out

    db, rid = _damaged_run(tmp_path, None, lambda h: (h.pop("logical_cpus", None),
                                                      h.pop("cpu_count", None)))
    if hardware == "nan":
        conn = sqlite3.connect(db)
        conn.execute("UPDATE runs SET hardware_json = '{\"logical_cpus\": NaN}' WHERE id = ?",
                     (rid,))
        conn.commit()
        conn.close()
    notes = json.loads(cli_out("show", str(rid), "--db", str(db), "--json"))["notes"]
    assert f"{why}: the process tree's CPU times are not judged against the machine's " \
        "CPUs" in notes, notes


def test_a_gpu_only_run_s_windows_give_no_cpu_share_in_joules(tmp_path: Path) -> None:
    """Its windows' attributions in show --json and /api/runs/ID gave 0 J shares with no
    word, where the run's own said it measured no CPU domain."""
    import json

    from tests._cli_out import cli_out
    from wattwise.records.stored_attribution import NO_CPU_DOMAIN
    from wattwise.server.data import run_payload

    db = tmp_path / "r.db"
    sensor = ConstantPowerSensor({"gpu0": 80.0}, component="gpu")
    with wattwise.track("gpu", db=db, sensors=[sensor], interval_s=0.05, zone="DE") as run:
        with run.window("w1"):
            time.sleep(0.2)
    rid = int(run.run_id or 0)
    shown = json.loads(cli_out("show", str(rid), "--db", str(db), "--json"))
    from wattwise.records.store import Store

    with Store(db) as store:
        api = run_payload(store, rid)
    for doc in (shown, api):
        (w,) = doc["windows"]
        a = w["attribution"]
        assert a["energy_note"] == NO_CPU_DOMAIN and a["cpu_energy_j"] is None, a
        assert a["share"] is not None
