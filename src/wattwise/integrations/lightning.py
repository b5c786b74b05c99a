"""``WattwiseCallback`` for Lightning's ``Trainer``.

    from wattwise.integrations.lightning import WattwiseCallback
    trainer = L.Trainer(..., callbacks=[WattwiseCallback(zone="DE")])

It measures ``fit`` as one run, each training epoch as a window, logs
``wattwise/energy_j`` (and the predicted totals once known) at each epoch end
through ``pl_module.log``, and marks the run ``failed`` when training raises.
Only local rank 0 of each node measures.

The class derives from ``lightning.pytorch.Callback`` (or the older
``pytorch_lightning.Callback``) when one is importable; without either, any
``on_*`` hook it does not handle is a no-op.
"""

from __future__ import annotations

from typing import Any

from wattwise.integrations._training import OtherEventsIgnored, TrainingTracker

try:  # pragma: no cover - exercised only where Lightning is installed
    from lightning.pytorch.callbacks import Callback as _Base
except ImportError:
    try:  # pragma: no cover
        from pytorch_lightning.callbacks import Callback as _Base
    except ImportError:
        _Base = object  # type: ignore[assignment,misc]


class WattwiseCallback(OtherEventsIgnored, _Base):  # type: ignore[misc,valid-type]
    """Measure a Lightning ``fit``; ``kwargs`` go to ``TrainingTracker``/``track``."""

    def __init__(self, name: str = "train", **kwargs: Any) -> None:
        super().__init__()
        self.tracker = TrainingTracker(name, **kwargs)
        self._active = True

    def on_train_start(self, trainer: Any, pl_module: Any) -> None:
        self._active = int(getattr(trainer, "local_rank", 0)) == 0
        if self._active:
            # Optimizer steps: estimated_stepping_batches counts them (accumulation included),
            # for the whole fit; global_step is past 0 when it resumed from a checkpoint.
            total = getattr(trainer, "estimated_stepping_batches", None)
            self.tracker.train_begin(
                total if isinstance(total, int | float) else None,
                int(getattr(trainer, "global_step", 0)),
            )

    def on_train_epoch_start(self, trainer: Any, pl_module: Any) -> None:
        if self._active:
            self.tracker.epoch_begin(int(getattr(trainer, "current_epoch", 0)))

    def on_train_batch_end(self, trainer: Any, pl_module: Any, *args: Any, **kw: Any) -> None:
        if self._active:
            self.tracker.step_end(int(getattr(trainer, "global_step", 0)))

    def on_train_epoch_end(self, trainer: Any, pl_module: Any) -> None:
        if not self._active:
            return
        self.tracker.epoch_end(int(getattr(trainer, "current_epoch", 0)))
        log = getattr(pl_module, "log", None)
        if callable(log):
            for key, value in self.tracker.metrics().items():
                try:
                    log(key, value, rank_zero_only=True)
                except Exception:  # noqa: BLE001 - a logger fault must not stop training
                    break

    def on_train_end(self, trainer: Any, pl_module: Any) -> None:
        if self._active:
            self.tracker.train_end()

    def on_exception(self, trainer: Any, pl_module: Any, exception: BaseException) -> None:
        if self._active:
            interrupted = isinstance(exception, KeyboardInterrupt)
            self.tracker.train_end("interrupted" if interrupted else "failed")
