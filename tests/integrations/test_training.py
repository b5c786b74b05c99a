"""TrainingTracker: a run from loop events, epoch windows, spread marks, a prediction."""

from __future__ import annotations

import time
import warnings
from pathlib import Path

import pytest

from tests.fixtures.fake_sensors import ConstantPowerSensor
from wattwise.integrations import TrainingTracker
from wattwise.measure.meter import WattwiseWarning
from wattwise.records.store import Store


def _tracker(tmp_path: Path, **kw: object) -> TrainingTracker:
    return TrainingTracker(
        "fit", sensors=[ConstantPowerSensor({"cpu:0": 50.0})], db=tmp_path / "r.db",
        interval_s=0.05, **kw,
    )


def _loop(t: TrainingTracker, epochs: int, steps_per_epoch: int, step_s: float = 0.002) -> None:
    t.train_begin(total_steps=epochs * steps_per_epoch)
    step = 0
    for epoch in range(epochs):
        t.epoch_begin(epoch)
        for _ in range(steps_per_epoch):
            time.sleep(step_s)
            step += 1
            t.step_end(step)
        t.epoch_end(epoch)
    t.train_end()


def test_a_run_with_one_window_per_epoch_is_recorded(tmp_path: Path) -> None:
    t = _tracker(tmp_path)
    _loop(t, epochs=3, steps_per_epoch=10)
    assert t.run is not None and t.run.result is not None
    store = Store(tmp_path / "r.db")
    rec = store.get_run(t.run.run_id)
    assert rec.status == "finished" and rec.name == "fit"
    assert [w["name"] for w in store.windows(rec.id)] == ["epoch-0", "epoch-1", "epoch-2"]


def test_marks_are_spread_and_the_prediction_covers_the_whole_run(tmp_path: Path) -> None:
    t = _tracker(tmp_path, marks=10)
    t.train_begin(total_steps=100)
    # 5 warm-up steps (5 %), then 95 steps over 10 marks.
    assert t.steps_per_mark == 10
    for step in range(1, 41):
        time.sleep(0.001)
        t.step_end(step)
    assert [step for step, _ in t._marks] == [5, 15, 25, 35]
    p = t.prediction
    assert p is not None and p.total_steps == 100 and p.steps_done == 35
    # 50 W for the predicted duration, within the sensor's own (exact) range.
    assert p.energy_j == pytest.approx(50.0 * p.duration_s, rel=0.15)
    m = t.metrics()
    assert m["wattwise/predicted_energy_j"] == p.energy_j
    assert m["wattwise/energy_j"] > 0
    t.train_end()
    events = Store(tmp_path / "r.db").events(t.run.run_id)  # type: ignore[union-attr]
    assert any("predicted for the whole run" in e["message"] for e in events)


def test_repeated_step_counts_from_gradient_accumulation_mark_once(tmp_path: Path) -> None:
    t = _tracker(tmp_path, marks=10)
    t.train_begin(total_steps=10)
    for step in (1, 1, 1, 2, 2, 3):
        t.step_end(step)
    assert t._marked == 3
    t.train_end()


def test_unknown_length_gives_windows_but_no_prediction(tmp_path: Path) -> None:
    t = _tracker(tmp_path)
    t.train_begin(total_steps=float("inf"))
    t.epoch_begin(0)
    for step in range(1, 20):
        t.step_end(step)
    t.epoch_end(0)
    assert t.prediction is None and "wattwise/predicted_energy_j" not in t.metrics()
    t.train_end()
    assert t.run is not None and t.run.result is not None


def test_a_measurement_fault_warns_once_and_training_goes_on(tmp_path: Path) -> None:
    t = TrainingTracker("fit", db=tmp_path / "r.db", sensors="not a list")  # type: ignore[arg-type]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        _loop(t, epochs=2, steps_per_epoch=3, step_s=0.0)
    faults = [w for w in caught if issubclass(w.category, WattwiseWarning)]
    assert len(faults) == 1 and "training goes on" in str(faults[0].message)
    assert t.metrics() == {}


def test_train_end_closes_an_epoch_left_open_and_records_the_status(tmp_path: Path) -> None:
    t = _tracker(tmp_path)
    t.train_begin(total_steps=10)
    t.epoch_begin(0)
    t.train_end("failed")
    store = Store(tmp_path / "r.db")
    rec = store.get_run(t.run.run_id)  # type: ignore[union-attr]
    assert rec.status == "failed"
    assert [w["name"] for w in store.windows(rec.id)] == ["epoch-0"]


def test_a_second_fit_with_the_same_tracker_is_a_new_run(tmp_path: Path) -> None:
    t = _tracker(tmp_path, marks=3)
    _loop(t, epochs=1, steps_per_epoch=6)
    first = t.run
    _loop(t, epochs=2, steps_per_epoch=3)
    assert t.run is not first and t.run is not None and t.run.result is not None
    runs = Store(tmp_path / "r.db").list_runs()
    assert len(runs) == 2 and all(r.status == "finished" for r in runs)
    assert [w["name"] for w in Store(tmp_path / "r.db").windows(t.run.run_id)] == [
        "epoch-0", "epoch-1",
    ]
