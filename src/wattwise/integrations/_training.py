"""The framework-neutral half of the training callbacks: a run driven by loop events.

A framework adapter calls ``train_begin`` / ``epoch_begin`` / ``epoch_end`` /
``step_end`` / ``train_end``; this class turns them into a ``Run`` with one
window per epoch and a running prediction of the whole run. Steps are the
framework's optimizer steps (its own ``global_step``), never callback calls,
which repeat under gradient accumulation. Marks are spread over the run
(about ``marks`` of them) rather than taken at every optimizer step: a mark
reads every sensor, and an NVML energy read costs ~3 ms. The first
``warmup_steps`` steps (compilation, data-loader start, allocation; by default
5 % of the run, at least one step) are measured but left out of the rate.

Every method swallows its own faults, warns once, and stops measuring: the
training loop must never fail because of its measurement.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

from wattwise.errors import BadInput
from wattwise.measure.meter import WattwiseWarning
from wattwise.measure.predict import Prediction, Reading, predict_steps
from wattwise.measure.tracking import Run

#: A prediction is made once this many marks are in (the first ends the warm-up).
MIN_MARKS = 3
#: Default warm-up: this share of the run's steps, at least one step.
WARMUP_SHARE = 0.05


class TrainingTracker:
    """One training run measured from its loop's events, with a running prediction.

    ``track_kwargs`` go to ``wattwise.track`` (``zone``, ``db``, ``store``,
    ``sensors``, ``interval_s``, ...). ``marks`` is how many step marks to
    spread over a run whose length is known; ``warmup_steps`` how many first
    optimizer steps to leave out of the rate (None: 5 % of the run, at least 1).
    """

    def __init__(
        self,
        name: str = "train",
        *,
        epoch_windows: bool = True,
        marks: int = 50,
        warmup_steps: int | None = None,
        **track_kwargs: Any,
    ) -> None:
        if warmup_steps is not None and (
            isinstance(warmup_steps, bool) or not isinstance(warmup_steps, int) or warmup_steps < 0
        ):
            raise BadInput(f"warmup_steps must be a whole number >= 0, got {warmup_steps!r}")
        self.name = name
        self.epoch_windows = epoch_windows
        self.marks = max(MIN_MARKS, int(marks))
        self.warmup_steps = warmup_steps
        self.track_kwargs = track_kwargs
        self.run: Run | None = None
        self.prediction: Prediction | None = None
        #: Optimizer steps this fit runs (the framework's total less the steps it resumed at).
        self.total_steps: int | None = None
        self.steps_per_mark = 1
        self._warmup = 1
        self._first_step = 0
        self._marked = 0
        self._last_step = 0
        self._marks: list[tuple[int, Reading]] = []
        self._start_reading: Reading | None = None
        self._open_epoch: str | None = None
        self._failed = False

    # -- events ---------------------------------------------------------------------

    def train_begin(self, total_steps: int | float | None = None, first_step: int = 0) -> None:
        """Start the run; ``total_steps`` (optimizer steps) enables the prediction.

        ``first_step`` is the framework's step count at the start (non-zero when it
        resumed from a checkpoint): the prediction covers the steps from there on.
        """
        if self.run is not None and self.run.result is None:
            return  # already measuring this fit
        # A new fit with the same callback (trainer.train() called again): a new run.
        self.run, self.prediction, self.total_steps = None, None, None
        self.steps_per_mark, self._marked, self._last_step = 1, 0, 0
        self._marks, self._start_reading = [], None
        self._open_epoch, self._failed = None, False
        self._first_step = max(0, int(first_step))
        if total_steps is not None and math.isfinite(total_steps):
            steps = int(total_steps) - self._first_step
            if steps > 0:
                self.total_steps = steps
                share = max(1, math.ceil(WARMUP_SHARE * steps))
                warmup = share if self.warmup_steps is None else self.warmup_steps
                self._warmup = min(warmup, steps)
                self.steps_per_mark = max(1, math.ceil((steps - self._warmup) / self.marks))
        self._guard(self._start)

    def epoch_begin(self, epoch: int) -> None:
        if self.epoch_windows:
            self._guard(lambda: self._begin_epoch(epoch))

    def epoch_end(self, epoch: int) -> None:
        if self.epoch_windows:
            self._guard(self._end_epoch)

    def step_end(self, global_step: int) -> None:
        """After optimizer step ``global_step`` (the framework's count of steps done)."""
        step = global_step - self._first_step
        # Gradient accumulation repeats a step count over several batches: mark it once.
        if step <= self._last_step:
            return
        self._last_step = step
        total = self.total_steps
        if total is None or step < self._warmup:
            return
        if step > total:
            # More steps than the framework announced: its total was wrong, so is any
            # prediction from it.
            self._guard(self._drop_prediction)
            return
        last = self._marks[-1][0] if self._marks else None
        if last is None or step - last >= self.steps_per_mark or step == total:
            self._guard(lambda: self._mark(step))

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
            # Every predicted figure with its 95 % interval: an estimate, not a number.
            out["wattwise/predicted_energy_j"] = p.energy_j
            out["wattwise/predicted_energy_low_j"] = p.energy_low_j
            out["wattwise/predicted_energy_high_j"] = p.energy_high_j
            out["wattwise/predicted_duration_s"] = p.duration_s
            out["wattwise/predicted_duration_low_s"] = p.duration_low_s
            out["wattwise/predicted_duration_high_s"] = p.duration_high_s
            out["wattwise/predicted_steps"] = float(p.total_steps)
            if p.emissions_g is not None:
                out["wattwise/predicted_emissions_g"] = p.emissions_g
                if p.emissions_low_g is not None and p.emissions_high_g is not None:
                    out["wattwise/predicted_emissions_low_g"] = p.emissions_low_g
                    out["wattwise/predicted_emissions_high_g"] = p.emissions_high_g
        return out

    # -- internals --------------------------------------------------------------------

    def _start(self) -> None:
        import wattwise

        self.run = wattwise.track(self.name, **self.track_kwargs).start()
        if self.total_steps is not None and self.run.meter is not None:
            self._start_reading = self.run.meter.total_now()

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

    def _mark(self, step: int) -> None:
        run, start = self.run, self._start_reading
        if run is None or run.meter is None or start is None or self.total_steps is None:
            return
        self._marks.append((step, run.meter.total_now()))
        self._marked += 1
        if self._marked < MIN_MARKS:
            return
        from wattwise.measure.results import combined_kind

        kind = combined_kind(d.kind for d in run.meter.domains if d.in_total)
        self.prediction = predict_steps(
            self._marks,
            self.total_steps,
            start,
            kind,
            run._current_intensity(),  # the run's zone and PUE, as run.predict_total prices
            warmup_steps=self._warmup,  # the first mark at or past it is the base
        )
        if self._marked == MIN_MARKS or self._marked % 10 == 0:
            run.event(f"predicted for the whole run: {self.prediction}")

    def _drop_prediction(self) -> None:
        if self.run is not None and self.total_steps is not None:
            self.run.event(
                f"the run went past the {self.total_steps} optimizer steps its framework "
                "announced: no prediction from here on"
            )
        self.total_steps, self.prediction = None, None

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
