"""A tracked run's step marks stored with its record: every one up to the cap, then as
many spread evenly over them, with the first and last kept and an event saying so."""

from __future__ import annotations

import itertools
import time
from pathlib import Path

import pytest

import wattwise
from tests.fixtures.fake_sensors import ConstantPowerSensor
from wattwise.measure import run_steps
from wattwise.measure.run_steps import spread
from wattwise.records.store import Store


@pytest.mark.parametrize(("n", "cap"), [(0, 5), (3, 5), (5, 5), (6, 5), (12, 5), (1000, 7),
                                        (10**5, 1000)])
def test_spread_keeps_all_or_cap_indexes_evenly_from_first_to_last(n: int, cap: int) -> None:
    got = spread(n, cap)
    if n <= cap:
        assert got == list(range(n))
        return
    assert len(got) == cap and got[0] == 0 and got[-1] == n - 1
    gaps = [b - a for a, b in itertools.pairwise(got)]
    assert min(gaps) >= 1 and max(gaps) - min(gaps) <= 1  # even: the gaps differ by one


def _track(db: Path, steps: int, **sensor: object) -> wattwise.Run:
    with wattwise.track("train", db=db, interval_s=0.02,
                        sensors=[ConstantPowerSensor({"cpu:0": 20.0}, **sensor)]) as run:
        for _ in range(steps):
            time.sleep(0.002)
            run.step(2)
    assert run.flush(30)
    return run


def test_every_mark_is_stored_with_its_step_energy_so_far_and_kind(tmp_path: Path) -> None:
    db = tmp_path / "runs.db"
    run = _track(db, 4)
    with Store(db, readonly=True) as store:
        marks = store.steps(run.run_id)
        events = store.events(run.run_id)
        rec = store.get_run(run.run_id)
    assert [m["mark"] for m in marks] == [1, 2, 3, 4]
    assert [m["step"] for m in marks] == [2, 4, 6, 8]
    assert all(m["kind"] == "measured" for m in marks)
    energies = [m["energy_j"] for m in marks]
    assert energies == sorted(energies) and energies[0] > 0
    assert energies[-1] <= rec.summary["energy_j"] + 1e-9  # so far, never past the end
    times = [m["t_unix_s"] for m in marks]
    assert rec.started_unix_s <= times[0] and times[-1] <= rec.ended_unix_s
    assert not [e for e in events if "step marks" in e["message"]]  # nothing left out


def test_beyond_the_cap_marks_are_spread_evenly_and_the_record_says_so(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(run_steps, "MAX_STORED_MARKS", 5)
    db = tmp_path / "runs.db"
    run = _track(db, 13, kind="estimated")
    with Store(db, readonly=True) as store:
        marks = store.steps(run.run_id)
        notes = [e["message"] for e in store.events(run.run_id)]
    assert [m["mark"] for m in marks] == [1, 4, 7, 10, 13]
    assert [m["step"] for m in marks] == [2, 8, 14, 20, 26]
    assert all(m["kind"] == "estimated" for m in marks)
    assert "step marks: 13 marked, 5 stored, spread evenly over them (the first and the " \
        "last kept)" in notes
    assert len(run._steps.marks) == 13  # the prediction still has every mark


def test_a_run_without_steps_stores_no_marks(tmp_path: Path) -> None:
    db = tmp_path / "runs.db"
    run = _track(db, 0)
    with Store(db, readonly=True) as store:
        assert store.steps(run.run_id) == []
