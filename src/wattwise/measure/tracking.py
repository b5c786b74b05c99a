"""``wattwise.track``: measure a block, a function or a whole program, and record it.

The checks on its arguments are in ``measure.run_options``; the rest of a run's work
is done by collaborators: writing its record (``measure.run_record``), its signals
and exit status (``measure.run_signals``), its step marks and prediction
(``measure.run_steps``) and its emissions (``measure.run_carbon``).

>>> with wattwise.track("train") as run:
...     with run.window("epoch-1"):
...         train_one_epoch()
>>> print(run.result)

Tracking never raises into the user's code because of a sensor or storage
fault: it warns once, marks a gap, and lets the program go on.
"""

from __future__ import annotations

import dataclasses
import functools
import os
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, TypeVar, overload

from wattwise._userinput import shown
from wattwise.carbon.accounting import CarbonOptions
from wattwise.errors import BadInput
from wattwise.measure.meter import OWN_WINDOW, Meter, check_window_name
from wattwise.measure.results import EnergyResult, combined_kind
from wattwise.measure.run_carbon import current_intensity, emissions_line, price_run, run_summary
from wattwise.measure.run_options import check_event, check_run_arguments
from wattwise.measure.run_record import RecordKeeper
from wattwise.measure.run_signals import FinalisingSignals, exit_status
from wattwise.measure.run_steps import MAX_STEPS as MAX_STEPS
from wattwise.measure.run_steps import MAX_STEPS_PER_MARK as MAX_STEPS_PER_MARK
from wattwise.measure.run_steps import StepMarks
from wattwise.records.database import rows_queued
from wattwise.records.exit_signals import said_when_killed
from wattwise.sensors.base import Sensor

if TYPE_CHECKING:
    from wattwise.carbon.emissions import Emissions
    from wattwise.measure.predict import Prediction
    from wattwise.records.recorder import RunRecorder

F = TypeVar("F", bound=Callable[..., Any])

_RUN_WINDOW = OWN_WINDOW + "run"


class Run:
    """A tracked run: a meter, its run record, and the result once it ends."""

    def __init__(
        self,
        name: str | None = None,
        *,
        interval_s: float = 1.0,
        db: str | Path | None = None,
        store: bool = True,
        sensors: list[Sensor] | None = None,
        pid: int | None = None,
        include_root: bool = True,
        command: list[str] | None = None,
        tags: dict[str, str] | None = None,
        zone: str | None = None,
        intensity_trace: str | Path | None = None,
        pue: float | None = None,
        carbon: bool = True,
        intensity_provider: str | None = None,
    ) -> None:
        # Every argument is checked here, before anything is discovered, opened or
        # recorded: a bad one is one BadInput naming it, at the call.
        kw: dict[str, Any] = dict(
            interval_s=interval_s, db=db, store=store, sensors=sensors, pid=pid,
            include_root=include_root, command=command, tags=tags, zone=zone,
            intensity_trace=intensity_trace, pue=pue, carbon=carbon,
            intensity_provider=intensity_provider,
        )
        self.name = check_run_arguments(name, kw) or "run"
        self._kw = kw
        self.carbon_options = CarbonOptions(
            kw["zone"], kw["intensity_trace"], kw["pue"], provider=kw["intensity_provider"]
        ) if carbon else None
        self._fetched: list[dict[str, Any]] = []
        #: Emissions of the whole run (``carbon.emissions.Emissions``) once it has ended.
        self.emissions: Emissions | None = None
        self.interval_s: float = kw["interval_s"]
        self.db: str | Path | None = kw["db"]
        self.store_enabled = store
        self.command: list[str] | None = kw["command"]
        self.tags: dict[str, str] = kw["tags"] or {}
        self._sensors: list[Sensor] | None = kw["sensors"]
        self._pid: int = os.getpid() if kw["pid"] is None else kw["pid"]
        self._include_root = include_root
        self.meter: Meter | None = None
        self._log = RecordKeeper()
        self.result: EnergyResult | None = None
        self.windows: list[EnergyResult] = []
        self.status: str | None = None
        self._signals = FinalisingSignals()
        self._steps = StepMarks()

    @property
    def record(self) -> RunRecorder | None:
        """The run's record (``records.recorder.RunRecorder``); None when not stored."""
        return self._log.record

    # -- lifecycle ------------------------------------------------------------------

    def start(self) -> Run:
        """Discover sensors, open the record and start sampling.

        A ``Run`` measures once: starting it again (a second ``with run:``) raises
        BadInput and records nothing; call ``wattwise.track(...)`` for a new run.
        """
        if self.meter is not None:
            if self.result is None:
                raise BadInput(f"run {self.name!r} is already running; a Run can be "
                               "entered once (call wattwise.track(...) for another run)")
            raise BadInput(f"run {self.name!r} has already ended ({self.status}); a Run "
                           "measures once: call wattwise.track(...) for a new run")

        sensors, notes = (self._sensors, []) if self._sensors is not None else _discover(self._log)
        meter = self.meter = Meter(sensors, interval_s=self.interval_s, pid=self._pid,
                                   include_root=self._include_root, on_sample=self._log.samples)
        if self.store_enabled:
            self._log.open(self.db, name=self.name, started_unix_s=time.time(),
                           carbon_options=self.carbon_options, sensors=meter.sensors,
                           sensor_info=meter.sensor_info, command=self.command,
                           pid=self._pid, tags=self.tags)
        for n in notes:
            self._log.event("info", n)
        meter.start()
        self._log.measured_from(meter.begin(_RUN_WINDOW))  # a lost run starts there too
        self._steps.run_start = meter.total_now()
        self._signals.install()
        return self

    def stop(self, status: str = "finished", exit_code: int | None = None) -> EnergyResult:
        """End the run, finalise its record and return the whole-run result."""
        if self.result is not None:
            return self.result
        if self.meter is None:
            raise BadInput("stop() called before the run was started")
        self._signals.restore()
        res = self.meter.end(_RUN_WINDOW)
        self.meter.stop()
        res = self.result = dataclasses.replace(res, name=self.name)
        self.status = status
        for note in self.meter.notes:
            self._log.event("warning", note)
        kind = combined_kind(d.kind for d in self.meter.domains if d.in_total)
        self._log.steps(lambda: self._steps.stored(kind))
        if self.carbon_options is not None:
            self.carbon_options, self.emissions, self._fetched = price_run(
                self.meter, res, self.carbon_options)
        self._log.finish(ended_unix_s=res.end_unix_s, status=status, exit_code=exit_code,
                         notes=self.meter.notes, summary=self.summary)
        said_when_killed(rows_queued)  # rows left queued for a locked database: never lost unsaid
        return res

    @property
    def run_id(self) -> int | None:
        """The run's id in the database: known as soon as the writer has created its
        row (within milliseconds, unless another process holds the database's lock;
        then None until it is free: ``flush()`` waits for it)."""
        record = self.record
        return None if record is None else record.wait_for_id(2.0)  # type: ignore[no-any-return]

    def flush(self, timeout_s: float = 10.0) -> bool:
        """Wait up to ``timeout_s`` until the run's record is written; False if not yet."""
        return self.record is None or bool(self.record.flush(timeout_s))

    def __enter__(self) -> Run:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        status, exit_code = exit_status(exc_type, exc)
        self.stop(status, exit_code=exit_code)

    def __call__(self, fn: F) -> F:
        """Use a ``Run`` as a decorator: each call of ``fn`` is measured as its own run."""
        kw = self._kw

        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with Run(self.name if self.name != "run" else fn.__qualname__, **kw):
                return fn(*args, **kwargs)

        return wrapper  # type: ignore[return-value]

    # -- windows --------------------------------------------------------------------

    def begin(self, name: str) -> None:
        """Open a named window inside the run (nestable, may overlap)."""
        if self.meter is None:
            raise BadInput("begin() called before the run was started")
        self.meter.begin(check_window_name(name))  # never one of wattwise's own

    def end(self, name: str) -> EnergyResult:
        """Close a named window; it is stored with the run."""
        if self.meter is None:
            raise BadInput("end() called before the run was started")
        res = self.meter.end(check_window_name(name))
        self.windows.append(res)
        self._log.window(res.to_dict)
        return res

    def record_window(self, window: dict[str, Any]) -> None:
        """Store a window measured some other way (a benchmark's summary) with the run."""
        self._log.window(lambda: window)

    @contextmanager
    def window(self, name: str) -> Iterator[None]:
        """``with run.window("epoch-3"):`` measures the block as a window."""
        self.begin(name)
        try:
            yield
        finally:
            self.end(name)

    def summary(self) -> dict[str, Any]:
        """The whole-run result with emissions and notes: what is stored and printed."""
        if self.result is None:
            return {}
        return run_summary(self.result, self.meter.notes if self.meter else [],
                           self.emissions, self._fetched, self.carbon_options)

    # -- prediction -----------------------------------------------------------------

    def step(self, n: int = 1) -> None:
        """Mark the end of ``n`` training steps or epochs (for ``predict_total``).

        ``n`` is a whole number of steps, at least 1 (``step(3)`` after three steps
        measured together), at most ``MAX_STEPS_PER_MARK`` (10**15), and the run's
        steps in all at most ``MAX_STEPS`` (2**53 - 1); anything else (0, a negative or
        fractional count, a bool, text) raises BadInput and marks nothing.
        """
        self._steps.mark(n, self.meter, self.name, ended=self.result is not None)

    def energy_so_far_j(self) -> float:
        """Energy since the run started, summed over the domains in totals (reads sensors).

        Once the run has ended it is the whole run's measured energy (``result.energy_j``)
        and no sensor is read: a logger that asks after the end gets the final figure,
        not energy the program spent after the run."""
        if self.meter is None:
            raise BadInput("energy_so_far_j() called before the run was started")
        if self.result is not None:
            return self.result.energy_j
        return self.meter.total_now()[1] - self._steps.run_start[1]

    def event(self, message: str, level: str = "info") -> None:
        """Add a line to the run's record (``wattwise show`` lists them)."""
        self._log.event(*check_event(level, message))

    def predict_total(self, total_steps: int) -> Prediction:
        """Predict time, energy and carbon of ``total_steps`` steps from the steps so far."""
        return self._steps.predict(total_steps, self.meter, self.carbon_options)

    def _current_intensity(self) -> tuple[float, str, float] | None:
        return current_intensity(self.carbon_options)

    # -- printing -----------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "name": self.name,
            "status": self.status,
            "result": self.summary() or None,
            "windows": [w.to_dict() for w in self.windows],
        }

    def __str__(self) -> str:
        if self.result is None:
            return f"<run {self.name!r}: {'running' if self.meter else 'not started'}>"
        head = f"run {self.run_id}: " if self.run_id is not None else ""
        tail = emissions_line(self.emissions) if self.emissions is not None else ""
        return head + str(self.result) + tail


def _discover(log: RecordKeeper) -> tuple[list[Sensor], list[str]]:
    """The sensors found here and discovery's notes; none if discovery itself fails."""
    from wattwise.sensors import discover

    try:
        found = discover()
        return found.sensors, found.notes
    except Exception as exc:  # noqa: BLE001 - measure nothing rather than break
        note = f"sensor discovery failed: {exc}"
        # stacklevel 5: past this function, to the caller of Run.start's caller
        log.warn(note + "; the run is recorded without energy", stacklevel=5)
        return [], [note]


class UnknownArgument(BadInput, TypeError):
    """A keyword ``track()`` does not take (a ``TypeError`` too, as Python raises)."""


#: The keyword arguments ``track()`` and ``Run()`` take.
TRACK_ARGUMENTS = (
    "interval_s", "db", "store", "sensors", "pid", "include_root", "command", "tags",
    "zone", "intensity_trace", "pue", "carbon", "intensity_provider",
)


def _check_keywords(kwargs: Mapping[str, Any]) -> None:
    for key in kwargs:
        if key not in TRACK_ARGUMENTS:
            raise UnknownArgument(f"track() has no argument {shown(key)}; valid: "
                                  f"{', '.join(TRACK_ARGUMENTS)}")


@overload
def track(name: F, **kwargs: Any) -> F: ...
@overload
def track(name: str | None = None, **kwargs: Any) -> Run: ...
def track(name: Any = None, **kwargs: Any) -> Any:
    """Measure a block (``with track("x") as run``) or a function (``@track``).

    Keyword arguments are those of :class:`Run`: ``interval_s`` (default 1 s,
    from 0.01 to 3600 s, as ``wattwise run -i``), ``db`` (record location; default
    ``$WATTWISE_DB`` or the user data dir), ``store=False`` to keep nothing on disk, ``sensors`` to
    choose them, ``tags`` (a dict of text to text), ``command`` (a list of strings).

    A bad argument raises ``BadInput`` (a ``ValueError``) here, naming it, before
    anything is measured or recorded: a blank name, one over ``MAX_NAME`` (256)
    characters or holding control characters; a ``db`` that is a directory, a
    device or FIFO, or in /proc, /sys or /dev; an unknown keyword (also a
    ``TypeError``). A ``Run`` measures once: entering it again, or calling
    ``step()`` after it ended, raises ``BadInput``; ``energy_so_far_j()`` after
    the end is the run's final measured energy.
    Once running, tracking never raises into the program: a database that fails
    for another reason is a warning.
    """
    _check_keywords(kwargs)
    if "interval_s" in kwargs:  # as `wattwise run -i` takes it (``Run`` itself also takes
        # a benchmark's 1 ms steps: ``bench.harness`` checks its own)
        from wattwise.measure.run_options import check_interval_recorded

        check_interval_recorded(kwargs["interval_s"])
    if callable(name):
        return Run(None, **kwargs)(name)
    return Run(name, **kwargs)
