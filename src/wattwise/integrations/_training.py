"""The framework-neutral half of the training callbacks: a run driven by loop events.

A framework adapter calls ``train_begin`` / ``epoch_begin`` / ``epoch_end`` /
``step_end`` / ``train_end``; this class turns them into a ``Run`` with one
window per epoch and step marks for ``predict_total``. Marks are spread over
the run (about ``marks`` of them) rather than taken at every optimizer step:
a mark reads every sensor, and an NVML energy read costs ~3 ms.

Every method swallows its own faults, warns once, and stops measuring: the
training loop must never fail because of its measurement.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

from wattwise.meter import WattwiseWarning
from wattwise.predict import Prediction
from wattwise.tracking import Run

#: A prediction is made once this many marks are in (the first is warm-up).
MIN_MARKS = 3


class TrainingTracker:
    """One training run measured from its loop's events, with a running prediction.

    ``track_kwargs`` go to ``wattwise.track`` (``zone``, ``db``, ``store``,
    ``sensors``, ``interval_s``, ...). ``marks`` is how many step marks to
    spread over a run whose length is known.
    """

    def __init__(
        self,
        name: str = "train",
        *,
        epoch_windows: bool = True,
        marks: int = 50,
        **track_kwargs: Any,
    ) -> None:
        self.name = name
        self.epoch_windows = epoch_windows
        self.marks = max(MIN_MARKS, int(marks))
        self.track_kwargs = track_kwargs
        self.run: Run | None = None
        self.prediction: Prediction | None = None
        self.total_steps: int | None = None
        self.steps_per_mark = 1
        self._marked = 0
        self._last_step = 0
        self._open_epoch: str | None = None
        self._failed = False

    # -- events ---------------------------------------------------------------------

    def train_begin(self, total_steps: int | float | None = None) -> None:
        """Start the run; ``total_steps`` (optimizer steps) enables the prediction."""
        if self.run is not None and self.run.result is None:
            return  # already measuring this fit
        # A new fit with the same callback (trainer.train() called again): a new run.
        self.run, self.prediction, self.total_steps = None, None, None
        self.steps_per_mark, self._marked, self._last_step = 1, 0, 0
        self._open_epoch, self._failed = None, False
        if total_steps is not None and math.isfinite(total_steps) and total_steps > 0:
            self.total_steps = int(total_steps)
            self.steps_per_mark = max(1, math.ceil(self.total_steps / self.marks))
        self._guard(self._start)

    def epoch_begin(self, epoch: int) -> None:
        if self.epoch_windows:
            self._guard(lambda: self._begin_epoch(epoch))

    def epoch_end(self, epoch: int) -> None:
        if self.epoch_windows:
            self._guard(self._end_epoch)

    def step_end(self, global_step: int) -> None:
        """After optimizer step ``global_step`` (1-based count of steps done)."""
        # Gradient accumulation repeats a step count over several batches: mark it once.
        if global_step <= self._last_step:
            return
        self._last_step = global_step
        if self.total_steps is None or global_step % self.steps_per_mark:
            return
        self._guard(self._mark)

    def train_end(self, status: str = "finished") -> None:
        """End the open epoch window, if any, and the run."""

        def end() -> None:
            if self.run is None or self.run.result is not None:
                return
            self._end_epoch()
            self.run.stop(status)

        self._guard(end, always=True)

    # -- what a framework logs --------------------------------------------------------

    def metrics(self) -> dict[str, float]:
        """Energy so far and, once known, the predicted totals: for the framework's logger."""
        if self.run is None or self.run.meter is None or self._failed:
            return {}
        out: dict[str, float] = {}
        try:
            out["wattwise/energy_j"] = self.run.energy_so_far_j()
        except Exception:  # noqa: BLE001
            return {}
        p = self.prediction
        if p is not None:
            out["wattwise/predicted_energy_j"] = p.energy_j
            out["wattwise/predicted_duration_s"] = p.duration_s
            if p.emissions_g is not None:
                out["wattwise/predicted_emissions_g"] = p.emissions_g
        return out

    # -- internals --------------------------------------------------------------------

    def _start(self) -> None:
        import wattwise

        self.run = wattwise.track(self.name, **self.track_kwargs).start()

    def _begin_epoch(self, epoch: int) -> None:
        if self.run is None:
            return
        self._end_epoch()
        self._open_epoch = f"epoch-{epoch}"
        self.run.begin(self._open_epoch)

    def _end_epoch(self) -> None:
        if self.run is not None and self._open_epoch is not None:
            name, self._open_epoch = self._open_epoch, None
            self.run.end(name)

    def _mark(self) -> None:
        if self.run is None or self.total_steps is None:
            return
        self.run.step()
        self._marked += 1
        if self._marked < MIN_MARKS:
            return
        blocks = math.ceil(self.total_steps / self.steps_per_mark)
        self.prediction = self.run.predict_total(max(blocks, self._marked))
        if self._marked == MIN_MARKS or self._marked % 10 == 0:
            self.run.event(f"predicted for the whole run: {self.prediction}")

    def _guard(self, fn: Any, always: bool = False) -> None:
        if self._failed and not always:
            return
        try:
            fn()
        except Exception as exc:  # noqa: BLE001
            if not self._failed:
                warnings.warn(
                    f"wattwise: measuring this training run failed ({exc}); training goes on "
                    "without it",
                    WattwiseWarning,
                    stacklevel=3,
                )
            self._failed = True


class OtherEventsIgnored:
    """A framework callback base: any ``on_*`` event a subclass does not handle is a no-op.

    Frameworks add events between versions and call them by name; without their
    own base class installed, the callbacks must still answer every one.
    """

    def __getattr__(self, name: str) -> Any:
        if name.startswith("on_"):
            return _noop
        raise AttributeError(name)


def _noop(*args: Any, **kwargs: Any) -> None:
    return None
