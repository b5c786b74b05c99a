"""A stored duration far shorter than its run (0 s, 1e-12 s on a run of half a second)
is not usable: every output gives the summary's own window in its place, with the one
duration note, and keeps the stored average power (its energy over that window). A
real run's duration, however short its window against its start to end, is no fault."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

import wattwise
from tests._damage import edit_summary
from tests.fixtures.fake_sensors import ConstantPowerSensor
from wattwise.cli import _register_all, app
from wattwise.records.judged_stored import duration_fault, stored_duration
from wattwise.records.store import Store
from wattwise.server.data import run_payload, runs_payload

_register_all()

pytestmark = pytest.mark.usefixtures("no_ambient_zone")

NOTE = "the stored duration is not usable: far shorter than its own window"


def _json(*args: str) -> Any:
    r = CliRunner().invoke(app, list(args), env={"COLUMNS": "400"})
    assert r.exit_code == 0, (r.stdout, r.stderr, r.exception)
    return json.loads(r.stdout)


@pytest.mark.parametrize("stored", [0.0, 1e-12, 0])
def test_a_duration_far_too_short_is_replaced_with_one_note(tmp_path: Path,
                                                           stored: Any) -> None:
    db = tmp_path / "r.db"
    with wattwise.track("job", db=db, sensors=[ConstantPowerSensor({"cpu:package": 40.0})],
                        interval_s=0.05, zone="DE") as run:
        time.sleep(0.6)
    assert run.flush() and run.run_id is not None
    rid = int(run.run_id)
    with Store(db, readonly=True) as store:
        summary = store.get_run(rid).summary
    assert isinstance(summary, dict)
    window = summary["end_unix_s"] - summary["start_unix_s"]
    power = summary["avg_power_w"]
    edit_summary(db, rid, lambda s: s.update(duration_s=stored))
    d, i = str(db), str(rid)
    show = _json("show", i, "--db", d, "--json")
    listed = next(r for r in _json("runs", "--db", d, "--json") if r["id"] == rid)
    with Store(db, readonly=True) as store:
        api = run_payload(store, rid)
        row = next(r for r in runs_payload(store)["runs"] if r["id"] == rid)
    durations = [show["duration_s"], listed["duration_s"], api["run"]["duration_s"],
                 row["duration_s"]]
    assert durations == [pytest.approx(window, rel=1e-12)] * 4, durations
    for notes in (show["notes"], listed["notes"], api["notes"], row.get("notes", [])):
        assert [n.startswith(NOTE) for n in notes].count(True) == 1, notes
        assert not [n for n in notes if "average power is not usable" in n], notes
    assert show["figures"]["avg_power_w"] == pytest.approx(power, rel=1e-3)


def test_only_a_duration_far_below_its_window_is_a_fault() -> None:
    own = {"start_unix_s": 100.0, "end_unix_s": 101.0}
    assert duration_fault(0.0, 99.9, 101.2, own) is not None
    assert duration_fault(1e-12, 99.9, 101.2, own) is not None
    assert duration_fault(1e-12, 99.9, 101.2) is not None  # the run's start to end alone
    # a real tiny run: its meter window a fraction of its process's start to end
    assert duration_fault(0.0276, 100.0, 100.0308, {"start_unix_s": 100.001,
                                                     "end_unix_s": 100.0286}) is None
    assert duration_fault(0.0, 100.0, 100.05, {"start_unix_s": 100.0,
                                                "end_unix_s": 100.016}) is None  # 16 ms clock
    assert duration_fault(0.002, 100.0, 103.0, {"start_unix_s": 100.5,
                                                 "end_unix_s": 100.502}) is None
    # a machine asleep for part of the run: its monotonic window is shorter, not damaged
    assert duration_fault(30.0, 100.0, 1100.0, {"start_unix_s": 100.0,
                                                 "end_unix_s": 1100.0}) is None
    assert stored_duration({**own, "duration_s": 0.0}, 99.9, 101.2) == 1.0


@pytest.mark.parametrize(("stored", "power", "damaged"), [
    (0.002, 12.19, True),    # the power is its energy over the run's 1.06 s: damaged
    (0.3, 12.19, True),
    (0.3, 43.07, False),     # its energy over 0.3 s: the record's own (asleep 0.76 s)
    (0.0005, 25_844.0, False),  # a 2000x sleep, written with its own duration
    (0.3, 20.0, False),      # a power that tells neither: above a thousandth, usable
    (0.0005, 20.0, True),    # ... below it, damaged
])
def test_a_short_duration_is_judged_by_the_power_written_with_it(
        stored: float, power: float, damaged: bool) -> None:
    from wattwise.records.judged_stored import duration_fault

    summary = {"energy_j": 12.922, "avg_power_w": power, "duration_s": stored,
               "start_unix_s": 100.0, "end_unix_s": 101.06}
    why = duration_fault(stored, 99.9, 101.2, summary)
    assert (why is not None) == damaged, why
