"""``WattwiseCallback`` for the Hugging Face ``Trainer``.

    from wattwise.integrations.transformers import WattwiseCallback
    trainer = Trainer(..., callbacks=[WattwiseCallback(zone="DE")])

It measures the whole ``train()`` as one run, each epoch as a window, and adds
``wattwise/energy_j`` (and, once known, the predicted totals) to every log
the Trainer emits: to ``trainer.state.log_history`` (so ``trainer_state.json``)
and to the ``logs`` seen by callbacks after this one. The Trainer's own
reporting callbacks (W&B, TensorBoard, ...) run before user callbacks and do
not see them. Only the local main process of each node measures, since
every process of a node would otherwise count the same hardware.

The class derives from ``transformers.TrainerCallback`` when transformers is
importable; without it, any ``on_*`` event it does not handle is a no-op, so
the Trainer's event calls (``getattr(callback, event)(args, state, control,
...)``) work the same either way.
"""

from __future__ import annotations

from typing import Any

from wattwise.integrations._training import OtherEventsIgnored, TrainingTracker

try:  # pragma: no cover - exercised only where transformers is installed
    from transformers import TrainerCallback as _Base
except ImportError:  # the callback is still usable by anything that calls on_* events
    _Base = object  # type: ignore[assignment,misc]


class WattwiseCallback(OtherEventsIgnored, _Base):  # type: ignore[misc,valid-type]
    """Measure a ``Trainer.train()`` run; ``kwargs`` go to ``TrainingTracker``/``track``."""

    def __init__(self, name: str = "train", **kwargs: Any) -> None:
        self.tracker = TrainingTracker(name, **kwargs)
        self._active = True
        self._epoch = 0

    def on_train_begin(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        self._active = bool(getattr(state, "is_local_process_zero", True))
        self._epoch = 0
        if self._active:
            # Optimizer steps, from the Trainer's own counts (a resumed run starts past 0).
            self.tracker.train_begin(
                getattr(state, "max_steps", None) or None, int(getattr(state, "global_step", 0))
            )

    def on_epoch_begin(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        if self._active:
            self.tracker.epoch_begin(self._epoch)

    def on_epoch_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        if self._active:
            self.tracker.epoch_end(self._epoch)
            self._epoch += 1

    def on_step_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        if self._active:
            self.tracker.step_end(int(getattr(state, "global_step", 0)))

    def on_log(
        self, args: Any, state: Any, control: Any, logs: dict[str, Any] | None = None, **kw: Any
    ) -> None:
        if not self._active or logs is None:
            return
        metrics = self.tracker.metrics()
        logs.update(metrics)  # seen by callbacks after this one
        # The Trainer has already copied this log into its history: add them there too,
        # so they reach trainer.state.log_history and trainer_state.json.
        history = getattr(state, "log_history", None)
        if history and isinstance(history[-1], dict):
            history[-1].update(metrics)

    def on_train_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        if self._active:
            self.tracker.train_end()
