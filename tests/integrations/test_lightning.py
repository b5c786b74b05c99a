"""The Lightning callback, driven by a stand-in trainer with Lightning's hook order."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from tests.fixtures.fake_sensors import ConstantPowerSensor
from wattwise.integrations.lightning import WattwiseCallback
from wattwise.records.store import Store


class Trainer:
    """The attributes of lightning.pytorch.Trainer that the callback reads."""

    def __init__(self, epochs: int, batches: int, accumulate: int = 1, local_rank: int = 0):
        self.max_epochs, self.batches, self.accumulate = epochs, batches, accumulate
        self.local_rank = local_rank
        self.estimated_stepping_batches = epochs * batches // accumulate
        self.current_epoch = 0
        self.global_step = 0

    def fit(self, cb: Any, module: Any, fail_at: int | None = None) -> None:
        try:
            cb.on_fit_start(self, module)
            cb.on_train_start(self, module)
            for epoch in range(self.max_epochs):
                self.current_epoch = epoch
                cb.on_train_epoch_start(self, module)
                for i in range(self.batches):
                    if fail_at is not None and i == fail_at:
                        raise RuntimeError("out of memory")
                    time.sleep(0.002)
                    if (i + 1) % self.accumulate == 0:
                        self.global_step += 1
                    cb.on_train_batch_end(self, module, {"loss": 1.0}, None, i)
                cb.on_train_epoch_end(self, module)
            cb.on_train_end(self, module)
        except Exception as exc:
            cb.on_exception(self, module, exc)
            raise


class Module:
    def __init__(self) -> None:
        self.logged: dict[str, float] = {}

    def log(self, key: str, value: float, **kw: Any) -> None:
        self.logged[key] = value


def _cb(tmp_path: Path, **kw: Any) -> WattwiseCallback:
    return WattwiseCallback(
        "pl", sensors=[ConstantPowerSensor({"cpu:0": 40.0})], db=tmp_path / "r.db",
        interval_s=0.05, **kw,
    )


def test_fit_is_measured_with_epoch_windows_and_logged(tmp_path: Path) -> None:
    cb, module = _cb(tmp_path, marks=4), Module()
    Trainer(epochs=2, batches=8, accumulate=2).fit(cb, module)
    run = cb.tracker.run
    assert run is not None and run.result is not None
    store = Store(tmp_path / "r.db")
    assert store.get_run(run.run_id).status == "finished"
    assert [w["name"] for w in store.windows(run.run_id)] == ["epoch-0", "epoch-1"]
    # 8 optimizer steps: the end of warm-up (step 1), then every 2, each marked once
    # despite accumulation, and the last.
    assert [step for step, _ in cb.tracker._marks] == [1, 3, 5, 7, 8]
    assert module.logged["wattwise/energy_j"] > 0
    assert "wattwise/predicted_energy_j" in module.logged


def test_a_crash_in_training_marks_the_run_failed(tmp_path: Path) -> None:
    cb = _cb(tmp_path)
    with pytest.raises(RuntimeError, match="out of memory"):
        Trainer(epochs=1, batches=5).fit(cb, Module(), fail_at=3)
    run = cb.tracker.run
    assert run is not None
    assert Store(tmp_path / "r.db").get_run(run.run_id).status == "failed"


def test_other_ranks_do_not_measure(tmp_path: Path) -> None:
    cb = _cb(tmp_path)
    Trainer(epochs=1, batches=2, local_rank=1).fit(cb, Module())
    assert cb.tracker.run is None
