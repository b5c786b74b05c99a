"""Training predictions count real optimizer steps, leave out warm-up and carry their range."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from tests.fixtures.fake_sensors import ConstantPowerSensor, ManualClock
from tests.integrations.test_lightning import Module
from tests.integrations.test_lightning import Trainer as LightningTrainer
from tests.integrations.test_transformers import Handler, State
from wattwise.integrations import TrainingTracker
from wattwise.integrations.lightning import WattwiseCallback as LightningCallback
from wattwise.integrations.transformers import WattwiseCallback as HFCallback
from wattwise.records.store import Store

WARMUP_J = 300.0  # each warm-up step: compilation, data-loader start, allocation
STEP_J = 30.0  # each step after it


def _hf_train(cb: Any, clock: ManualClock, steps: int, slow: int, at: int | None = None) -> Any:
    """Drive ``steps`` optimizer steps through the Trainer's events; the first ``slow``
    cost WARMUP_J. Returns the prediction seen after step ``at`` (if given)."""
    handler, state = Handler([cb]), State(max_steps=steps)
    handler.call_event("on_train_begin", state)
    handler.call_event("on_epoch_begin", state)
    seen = None
    for i in range(steps):
        handler.call_event("on_step_begin", state)
        clock.advance((WARMUP_J if i < slow else STEP_J) / 10.0)  # the sensor draws 10 W
        handler.call_event("on_optimizer_step", state)
        state.global_step += 1
        handler.call_event("on_step_end", state)
        if state.global_step == at:
            seen = cb.tracker.prediction
    handler.call_event("on_epoch_end", state)
    handler.call_event("on_train_end", state)
    return seen


def _hf_callback(tmp_path: Path, clock: ManualClock, **kw: Any) -> HFCallback:
    sensor = ConstantPowerSensor({"cpu:0": 10.0}, clock=clock)
    return HFCallback("hf", sensors=[sensor], db=tmp_path / "r.db", interval_s=60.0, **kw)


def test_the_prediction_counts_the_trainers_optimizer_steps(tmp_path: Path) -> None:
    clock = ManualClock()
    cb = _hf_callback(tmp_path, clock)  # default marks: fewer marks than the 90 steps
    _hf_train(cb, clock, steps=90, slow=1)
    p = cb.tracker.prediction
    assert p is not None and p.total_steps == 90 and p.steps_done == 90
    events = Store(tmp_path / "r.db").events(cb.tracker.run.run_id)  # type: ignore[union-attr]
    said = [e["message"] for e in events if "predicted" in e["message"]]
    assert said and all("predicted for 90 steps" in m for m in said)


def test_early_predictions_leave_out_several_warm_up_steps(tmp_path: Path) -> None:
    clock = ManualClock()
    cb = _hf_callback(tmp_path, clock)
    early = _hf_train(cb, clock, steps=90, slow=3, at=12)
    final_j = cb.tracker.run.result.energy_j  # type: ignore[union-attr]
    assert final_j == pytest.approx(3 * WARMUP_J + 87 * STEP_J, rel=0.01)
    assert early is not None
    assert early.energy_j == pytest.approx(final_j, rel=0.05)  # not 2-4x high
    assert early.energy_low_j <= final_j <= early.energy_high_j


def test_the_logged_prediction_carries_its_interval(tmp_path: Path) -> None:
    clock = ManualClock()
    cb = _hf_callback(tmp_path, clock)
    _hf_train(cb, clock, steps=40, slow=1)
    m = cb.tracker.metrics()
    low, mid, high = (
        m["wattwise/predicted_energy_low_j"],
        m["wattwise/predicted_energy_j"],
        m["wattwise/predicted_energy_high_j"],
    )
    assert low <= mid <= high
    assert m["wattwise/predicted_duration_low_s"] <= m["wattwise/predicted_duration_high_s"]
    events = Store(tmp_path / "r.db").events(cb.tracker.run.run_id)  # type: ignore[union-attr]
    said = [e["message"] for e in events if "predicted" in e["message"]]
    assert said and all(re.search(r"[\d.]+ J \([\d.]+-[\d.]+\)", s) for s in said)


def test_lightning_predicts_for_its_optimizer_steps_not_batches_or_marks(
    tmp_path: Path,
) -> None:
    cb = LightningCallback(
        "pl", sensors=[ConstantPowerSensor({"cpu:0": 40.0})], db=tmp_path / "r.db",
        interval_s=0.05, marks=4,
    )
    module = Module()
    LightningTrainer(epochs=4, batches=10, accumulate=2).fit(cb, module)
    p = cb.tracker.prediction
    assert p is not None and p.total_steps == 20 and p.steps_done == 20
    assert module.logged["wattwise/predicted_energy_low_j"] <= module.logged[
        "wattwise/predicted_energy_high_j"
    ]


def test_warm_up_steps_can_be_set_and_are_never_in_the_rate(tmp_path: Path) -> None:
    clock = ManualClock()
    t = TrainingTracker(
        "fit", sensors=[ConstantPowerSensor({"cpu:0": 10.0}, clock=clock)],
        db=tmp_path / "r.db", interval_s=60.0, warmup_steps=4, marks=100,
    )
    t.train_begin(total_steps=20)
    for step in range(1, 9):
        clock.advance((WARMUP_J if step <= 4 else STEP_J) / 10.0)
        t.step_end(step)
    p = t.prediction
    assert p is not None and p.steps_used == 4
    assert p.energy_j == pytest.approx(4 * WARMUP_J + 16 * STEP_J)
    t.train_end()


def test_a_resumed_trainer_predicts_the_steps_left_in_this_fit(tmp_path: Path) -> None:
    clock = ManualClock()
    cb = _hf_callback(tmp_path, clock)
    handler, state = Handler([cb]), State(max_steps=60, global_step=40)  # from a checkpoint
    handler.call_event("on_train_begin", state)
    for _ in range(20):
        clock.advance(STEP_J / 10.0)
        state.global_step += 1
        handler.call_event("on_step_end", state)
    handler.call_event("on_train_end", state)
    p = cb.tracker.prediction
    assert p is not None and p.total_steps == 20 and p.steps_done == 20
    assert p.energy_j == pytest.approx(20 * STEP_J, rel=0.01)


def test_no_warm_up_uses_every_step_and_a_bad_warm_up_is_refused(tmp_path: Path) -> None:
    from wattwise.errors import BadInput

    clock = ManualClock()
    t = TrainingTracker(
        "fit", sensors=[ConstantPowerSensor({"cpu:0": 10.0}, clock=clock)],
        db=tmp_path / "r.db", interval_s=60.0, warmup_steps=0, marks=100,
    )
    t.train_begin(total_steps=10)
    for step in range(1, 4):
        clock.advance(STEP_J / 10.0)
        t.step_end(step)
    assert t.prediction is not None and t.prediction.steps_used == 3
    t.train_end()
    with pytest.raises(BadInput, match="warmup_steps"):
        TrainingTracker("fit", warmup_steps=-1)
