"""The Hugging Face callback, driven the way transformers' CallbackHandler drives callbacks."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.fixtures.fake_sensors import ConstantPowerSensor
from wattwise.integrations.transformers import WattwiseCallback
from wattwise.records.store import Store


@dataclass
class State:
    """The fields of transformers.TrainerState that the callback reads."""

    max_steps: int = 0
    global_step: int = 0
    epoch: float = 0.0
    is_local_process_zero: bool = True
    log_history: list[dict[str, Any]] = field(default_factory=list)


class Handler:
    """transformers.CallbackHandler.call_event, as the Trainer uses it."""

    def __init__(self, callbacks: list[Any]) -> None:
        self.callbacks = callbacks

    def call_event(self, event: str, state: State, **kwargs: Any) -> None:
        for cb in self.callbacks:
            getattr(cb, event)(
                object(), state, object(), model=None, processing_class=None,
                optimizer=None, lr_scheduler=None, train_dataloader=None,
                eval_dataloader=None, **kwargs,
            )


def _train(handler: Handler, state: State, epochs: int, steps: int) -> list[dict[str, Any]]:
    logs_seen = []
    state.max_steps = epochs * steps
    handler.call_event("on_init_end", state)
    handler.call_event("on_train_begin", state)
    for _ in range(epochs):
        handler.call_event("on_epoch_begin", state)
        for _ in range(steps):
            handler.call_event("on_step_begin", state)
            time.sleep(0.002)
            handler.call_event("on_optimizer_step", state)
            state.global_step += 1
            handler.call_event("on_step_end", state)
        state.epoch += 1
        logs: dict[str, Any] = {"loss": 0.5}
        state.log_history.append({**logs, "step": state.global_step})  # as Trainer.log does
        handler.call_event("on_log", state, logs=logs)
        logs_seen.append(logs)
        handler.call_event("on_epoch_end", state)
    handler.call_event("on_train_end", state)
    return logs_seen


def test_a_trainer_run_is_measured_with_epoch_windows_and_logged(tmp_path: Path) -> None:
    cb = WattwiseCallback(
        "hf", sensors=[ConstantPowerSensor({"cpu:0": 30.0})], db=tmp_path / "r.db",
        interval_s=0.05, marks=6,
    )
    state = State()
    logs = _train(Handler([cb]), state, epochs=3, steps=4)
    run = cb.tracker.run
    assert run is not None and run.result is not None and run.result.energy_j > 0
    store = Store(tmp_path / "r.db")
    assert [w["name"] for w in store.windows(run.run_id)] == ["epoch-0", "epoch-1", "epoch-2"]
    assert all(log["wattwise/energy_j"] > 0 for log in logs)
    assert all(h["wattwise/energy_j"] > 0 for h in state.log_history)
    # 12 steps at 2 per mark: a prediction from the second epoch on.
    assert "wattwise/predicted_energy_j" in logs[-1]
    assert logs[-1]["loss"] == 0.5


def test_only_the_local_main_process_measures(tmp_path: Path) -> None:
    sensor = ConstantPowerSensor({"cpu:0": 30.0})
    cb = WattwiseCallback("hf", sensors=[sensor], db=tmp_path / "r.db")
    logs = _train(Handler([cb]), State(is_local_process_zero=False), epochs=1, steps=2)
    assert cb.tracker.run is None
    assert "wattwise/energy_j" not in logs[0]
    assert not (tmp_path / "r.db").exists() or Store(tmp_path / "r.db").list_runs() == []


def test_unknown_events_are_ignored_and_other_attributes_are_not_invented() -> None:
    cb = WattwiseCallback("hf", store=False)
    assert cb.on_some_future_event(None, None, None) is None
    with pytest.raises(AttributeError):
        cb.not_an_event  # noqa: B018  (only on_* events default to a no-op)
