"""A tracked run's training-step marks, and the prediction of its whole made from them.

Each ``run.step(n)`` reads the meter once and keeps ``(steps done, reading)``; one mark
carries the ``n`` steps it closes (equal shares of the time and energy since the
previous mark), so marking is O(1) whatever ``n`` and gives the same figures as ``n``
marks. Reading the meter and appending happen under one lock, so several threads
calling ``step()`` keep both counts and readings in order.

The marks are stored with the run when it ends (``stored``): every one up to
``MAX_STORED_MARKS``, beyond that as many spread evenly over them (the first and
the last kept), each with its place among all the marks so the record says which
were left out. A run that never ends (killed) stores none.
"""

from __future__ import annotations

import numbers
import threading
import time
from typing import TYPE_CHECKING

from wattwise._userinput import shown
from wattwise.carbon.accounting import CarbonOptions
from wattwise.errors import BadInput
from wattwise.measure.marks import ZERO, StepMark
from wattwise.measure.meter import Meter
from wattwise.measure.results import combined_kind
from wattwise.measure.run_carbon import current_intensity

if TYPE_CHECKING:
    from wattwise.measure.predict import Prediction

#: Most steps one ``run.step(n)`` may mark: far beyond any training run, and small
#: enough that a mistyped count is refused rather than read as a plan.
MAX_STEPS_PER_MARK = 10**15
#: Most steps one run may count in all: the most its outputs give exactly (a page's
#: numbers are doubles: past 2**53 - 1 a step would be shown as another).
MAX_STEPS = 2**53 - 1
#: Most step marks stored with one run: enough to draw one per pixel of a wide chart;
#: a run that marks more keeps this many, spread evenly over them.
MAX_STORED_MARKS = 1000

#: A stored mark: (place among the marks from 1, unix time, steps done, energy since the
#: run started, its low and high bound, its kind), as ``records.rows.step_values`` takes.
StoredMark = tuple[int, float, int, float, float, float, str]


def spread(n: int, cap: int) -> list[int]:
    """Indexes of ``n`` items to keep at most ``cap`` of: all of them, or ``cap`` spread
    evenly from the first to the last."""
    if n <= cap:
        return list(range(n))
    if cap <= 1:
        return [n - 1] if cap == 1 else []
    return [k * (n - 1) // (cap - 1) for k in range(cap)]


class StepMarks:
    """``(steps done, meter reading)`` after each ``step()``, from the run's start reading."""

    def __init__(self) -> None:
        self.marks: list[tuple[int, StepMark]] = []
        #: the unix time of each mark, for the record (``StepMark.t`` is the meter's clock)
        self.unix: list[float] = []
        #: the meter's reading when the run started (set by the run)
        self.run_start: StepMark = ZERO
        #: the reading the first step is counted from; None until a step is marked
        self.first: StepMark | None = None
        self._lock = threading.Lock()

    def mark(self, n: object, meter: Meter | None, run_name: str, ended: bool) -> None:
        """Mark ``n`` steps done now; BadInput (and nothing marked) for a count that is
        not a whole number from 1 to ``MAX_STEPS_PER_MARK``, one that would take the run past
        ``MAX_STEPS``, or a run not running."""
        if isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < 1:
            raise BadInput(f"step(n): n must be a whole number of steps, at least 1, "
                           f"got {shown(n)}")
        count = int(n)
        if meter is None:
            raise BadInput("step() called before the run was started")
        if count > MAX_STEPS_PER_MARK:
            raise BadInput(f"step(n): n must be at most {MAX_STEPS_PER_MARK:.0e} steps "
                           f"in one call, got {shown(count)}")
        if ended:
            raise BadInput(f"step(): the run {run_name!r} has ended; steps are counted "
                           "while it runs")
        with self._lock:
            done = self.marks[-1][0] if self.marks else 0
            if done + count > MAX_STEPS:
                raise BadInput(f"step({count:,}): the run would count {done + count:,} "
                               f"steps, more than the {MAX_STEPS:,} a run may count")
            if self.first is None:
                self.first = self.run_start
            self.marks.append((done + count, meter.total_now()))
            self.unix.append(time.time())

    def predict(self, total_steps: int, meter: Meter | None,
                carbon_options: CarbonOptions | None) -> Prediction:
        """Time, energy and carbon of ``total_steps`` steps, from the steps so far."""
        if meter is None or self.first is None:
            raise BadInput("no steps measured yet: call run.step() after each step or epoch")
        from wattwise.measure.predict import predict_counted

        kind = combined_kind(d.kind for d in meter.domains if d.in_total)
        return predict_counted(
            self.marks, total_steps, self.first, kind, current_intensity(carbon_options),
            min_span_s=meter.interval_s,
        )

    def stored(self, kind: str, cap: int | None = None) -> tuple[list[StoredMark], int]:
        """The marks to store (at most ``cap``, default ``MAX_STORED_MARKS``; see the
        module docstring), with energy counted from the run's start reading, and how
        many were marked in all."""
        cap = MAX_STORED_MARKS if cap is None else cap
        with self._lock:
            marks, unix = list(self.marks), list(self.unix)
        base = self.run_start
        rows = [(k + 1, unix[k], marks[k][0], marks[k][1].energy_j - base.energy_j,
                 marks[k][1].low_j - base.low_j, marks[k][1].high_j - base.high_j, kind)
                for k in spread(len(marks), cap)]
        return rows, len(marks)
