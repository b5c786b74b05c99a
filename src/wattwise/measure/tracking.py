"""``wattwise.track``: measure a block, a function or a whole program, and record it.

The checks on its arguments are in ``measure.run_options``; the host facts stored
with each run in ``measure.host``.

>>> with wattwise.track("train") as run:
...     with run.window("epoch-1"):
...         train_one_epoch()
>>> print(run.result)

Tracking never raises into the user's code because of a sensor or storage
fault: it warns once, marks a gap, and lets the program go on.

Longer than ~500 lines because ``Run`` is one object over a tracked run's meter, record
and signal handlers; its argument checks are in ``measure.run_options`` and the host
facts in ``measure.host``.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import numbers
import os
import signal
import threading
import time
import warnings
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from types import FrameType, TracebackType
from typing import TYPE_CHECKING, Any, TypeVar, overload

from wattwise._userinput import shown
from wattwise.carbon.accounting import (
    CarbonOptions,
    emissions_and_fetched,
    intervals_from_samples,
    trace_sha256,
)
from wattwise.carbon.repricing import STARTED_KEY, started_carbon
from wattwise.errors import BadInput
from wattwise.measure.host import hardware_info, host_info, versions
from wattwise.measure.marks import ZERO as ZERO_MARK
from wattwise.measure.marks import StepMark
from wattwise.measure.meter import (
    OWN_WINDOW,
    Meter,
    Sample,
    WattwiseWarning,
    check_interval,
    check_pid,
    check_sensors,
    check_window_name,
)
from wattwise.measure.results import EnergyResult, combined_kind
from wattwise.measure.run_options import (
    check_bool,
    check_command,
    check_db,
    check_name,
    check_path,
    check_provider,
    check_pue,
    check_tags,
    check_trace,
    check_zone,
)
from wattwise.sensors.base import Sensor

if TYPE_CHECKING:
    from wattwise.carbon.emissions import Emissions
    from wattwise.measure.predict import Prediction
    from wattwise.records.recorder import RunRecorder

F = TypeVar("F", bound=Callable[..., Any])
#: What ``signal.signal`` returns: a handler, ``SIG_DFL``/``SIG_IGN``, or None.
_Handler = Callable[[int, FrameType | None], Any] | int | signal.Handlers | None

_RUN_WINDOW = OWN_WINDOW + "run"

#: Most steps one ``run.step(n)`` may mark: far beyond any training run, and small
#: enough that a mistyped count is refused rather than read as a plan.
MAX_STEPS_PER_MARK = 10**15


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
        name = check_name(name)
        interval_s = check_interval(interval_s)
        db = check_path(db, "db")
        check_db(db)
        check_bool(store, "store")
        sensors = None if sensors is None else check_sensors(sensors)
        pid = None if pid is None else check_pid(pid)
        check_bool(include_root, "include_root")
        command = check_command(command)
        tags = check_tags(tags)
        zone = check_zone(zone)
        intensity_trace = check_trace(intensity_trace, zone, carbon)  # before the run starts
        pue = check_pue(pue)
        check_bool(carbon, "carbon")
        intensity_provider = check_provider(intensity_provider, zone, carbon)
        self.name = name or "run"
        self._kw: dict[str, Any] = dict(
            interval_s=interval_s, db=db, store=store, sensors=sensors, pid=pid,
            include_root=include_root, command=command, tags=tags, zone=zone,
            intensity_trace=intensity_trace, pue=pue, carbon=carbon,
            intensity_provider=intensity_provider,
        )
        self.carbon_options = (
            CarbonOptions(zone, intensity_trace, pue, provider=intensity_provider)
            if carbon
            else None
        )
        self._fetched: list[dict[str, Any]] = []
        self._warned: set[str] = set()
        #: Emissions of the whole run (``carbon.emissions.Emissions``) once it has ended.
        self.emissions: Emissions | None = None
        self.interval_s = interval_s
        self.db = db
        self.store_enabled = store
        self.command = command
        self.tags = tags or {}
        self._sensors = sensors
        self._pid = os.getpid() if pid is None else pid
        self._include_root = include_root
        self.meter: Meter | None = None
        #: The run's record (``records.recorder.RunRecorder``); None when not stored.
        self.record: RunRecorder | None = None
        self.result: EnergyResult | None = None
        self.windows: list[EnergyResult] = []
        self.status: str | None = None
        self._started_unix_s = 0.0
        self._old_sigterm: dict[int, _Handler] = {}
        #: ``(steps done, meter reading)`` after each ``step()`` call.
        self._step_marks: list[tuple[int, StepMark]] = []
        self._step_start: StepMark | None = None
        self._run_start_mark: StepMark = ZERO_MARK
        #: Held while a step mark is read and appended, so threads never interleave.
        self._step_lock = threading.Lock()

    # -- lifecycle ------------------------------------------------------------------

    def start(self) -> Run:
        """Discover sensors, open the record and start sampling.

        A ``Run`` measures once: starting it again (a second ``with run:``) raises
        BadInput and records nothing; call ``wattwise.track(...)`` for a new run.
        """
        from wattwise.sensors import discover

        if self.meter is not None:
            if self.result is None:
                raise BadInput(f"run {self.name!r} is already running; a Run can be "
                               "entered once (call wattwise.track(...) for another run)")
            raise BadInput(f"run {self.name!r} has already ended ({self.status}); a Run "
                           "measures once: call wattwise.track(...) for a new run")

        notes: list[str] = []
        sensors = self._sensors
        if sensors is None:
            try:
                found = discover()
                sensors, notes = found.sensors, found.notes
            except Exception as exc:  # noqa: BLE001 - measure nothing rather than break
                sensors, notes = [], [f"sensor discovery failed: {exc}"]
                self._warn(notes[0] + "; the run is recorded without energy")
        self.meter = Meter(
            sensors,
            interval_s=self.interval_s,
            pid=self._pid,
            include_root=self._include_root,
            on_sample=self._record_samples,
        )
        self._started_unix_s = time.time()
        if self.store_enabled:
            self._open_store(self.meter.sensors)
        for n in notes:
            self._event("info", n)
        self.meter.start()
        self.meter.begin(_RUN_WINDOW)
        self._run_start_mark = self.meter.total_now()
        self._install_sigterm()
        return self

    def stop(self, status: str = "finished", exit_code: int | None = None) -> EnergyResult:
        """End the run, finalise its record and return the whole-run result."""
        if self.result is not None:
            return self.result
        if self.meter is None:
            raise BadInput("stop() called before the run was started")
        self._restore_sigterm()
        res = self.meter.end(_RUN_WINDOW)
        self.meter.stop()
        res = EnergyResult(
            name=self.name,
            start_unix_s=res.start_unix_s,
            end_unix_s=res.end_unix_s,
            duration_s=res.duration_s,
            domains=res.domains,
            attribution=res.attribution,
            gaps=res.gaps,
            gpu_attribution=res.gpu_attribution,
        )
        self.result = res
        self.status = status
        for note in self.meter.notes:
            self._event("warning", note)
        self._price(res)
        record = self.record
        if record is not None:
            dropped = self._safely(record.note_dropped_before_finish)
            if dropped:
                self.meter.notes.append(dropped)
            summary = self.summary()
            self._safely(
                lambda: record.finish(
                    ended_unix_s=res.end_unix_s,
                    status=status,
                    exit_code=exit_code,
                    summary=summary,
                )
            )
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
        exit_code: int | None = None
        if exc_type is None:
            status = "finished"
        elif issubclass(exc_type, SystemExit) and not issubclass(exc_type, _Terminated):
            # sys.exit(0) / sys.exit() inside the block is a normal end; any other
            # code is a failure, as `wattwise run` records a non-zero exit.
            code = exc.code if isinstance(exc, SystemExit) else None
            if code is None or code == 0:
                status, exit_code = "finished", 0
            else:
                status = "failed"
                exit_code = code if isinstance(code, int) and not isinstance(code, bool) else 1
        elif issubclass(exc_type, KeyboardInterrupt | _Terminated):
            status = "interrupted"
        else:
            status = "failed"
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
        record = self.record
        if record is not None:
            self._safely(lambda: record.window(res.to_dict()))
        return res

    def record_window(self, window: dict[str, Any]) -> None:
        """Store a window measured some other way (a benchmark's summary) with the run."""
        record = self.record
        if record is not None:
            self._safely(lambda: record.window(window))

    @contextmanager
    def window(self, name: str) -> Iterator[None]:
        """``with run.window("epoch-3"):`` measures the block as a window."""
        self.begin(name)
        try:
            yield
        finally:
            self.end(name)

    def _price(self, res: EnergyResult) -> None:
        """Emissions from the sample timeline; a carbon fault is a note, never an exception."""
        if self.carbon_options is None or self.meter is None:
            return
        in_total = {d.name for d in self.meter.domains if d.in_total}
        intervals = intervals_from_samples(
            self.meter.samples, in_total, res.start_unix_s, scale_to_j=res.energy_j,
            end_unix_s=res.end_unix_s,
        )
        if not intervals:
            self.meter.notes.append("no energy samples, so no emissions figure")
            return
        trace = self.carbon_options.intensity_trace
        if trace is not None:  # the bytes it is priced with, so a report can tell an edit
            self.carbon_options = dataclasses.replace(
                self.carbon_options, intensity_trace_sha256=trace_sha256(trace)
            )
        try:
            self.emissions, self._fetched = emissions_and_fetched(intervals, self.carbon_options)
        except Exception as exc:  # noqa: BLE001 - pricing must not break the user's program
            self.meter.notes.append(f"emissions not computed: {exc}")
            warnings.warn(
                f"wattwise: emissions not computed: {exc}", WattwiseWarning, stacklevel=3
            )

    def summary(self) -> dict[str, Any]:
        """The whole-run result with emissions and notes: what is stored and printed."""
        if self.result is None:
            return {}
        out = self.result.to_dict()
        out["notes"] = list(self.meter.notes) if self.meter else []
        if self.emissions is not None:
            out["emissions"] = self.emissions.to_dict(intervals=False)
            out["emissions"]["intensity_used"] = [
                [i.t_start_unix_s, i.t_end_unix_s, i.intensity_g_per_kwh]
                for i in self.emissions.intervals
            ]
            if self._fetched:
                out["emissions"]["fetched"] = self._fetched
            out["notes"].extend(n for n in self.emissions.notes if n)
        if self.carbon_options is not None:
            out["carbon_options"] = self.carbon_options.to_dict()
        return out

    # -- prediction -----------------------------------------------------------------

    def step(self, n: int = 1) -> None:
        """Mark the end of ``n`` training steps or epochs (for ``predict_total``).

        ``n`` is a whole number of steps, at least 1 (``step(3)`` after three steps
        measured together), at most ``MAX_STEPS_PER_MARK`` (10**15); anything else
        (0, a negative or fractional count, a bool, text) raises BadInput and marks
        nothing.
        """
        if isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < 1:
            raise BadInput(f"step(n): n must be a whole number of steps, at least 1, "
                           f"got {shown(n)}")
        n = int(n)
        if self.meter is None:
            raise BadInput("step() called before the run was started")
        if n > MAX_STEPS_PER_MARK:
            raise BadInput(f"step(n): n must be at most {MAX_STEPS_PER_MARK:.0e} steps "
                           f"in one call, got {shown(n)}")
        if self.result is not None:
            raise BadInput(f"step(): the run {self.name!r} has ended; steps are counted "
                           "while it runs")
        # One mark carries the n steps it closes (equal shares of the time and energy
        # since the previous mark): O(1) whatever n, the same figures as n marks.
        # Reading the meter and appending under one lock keeps both counts and
        # readings in order when several threads call step().
        with self._step_lock:
            if self._step_start is None:
                self._step_start = self._run_start_mark
            done = self._step_marks[-1][0] if self._step_marks else 0
            self._step_marks.append((done + n, self.meter.total_now()))

    def energy_so_far_j(self) -> float:
        """Energy since the run started, summed over the domains in totals (reads sensors).

        Once the run has ended it is the whole run's measured energy (``result.energy_j``)
        and no sensor is read: a logger that asks after the end gets the final figure,
        not energy the program spent after the run."""
        if self.meter is None:
            raise BadInput("energy_so_far_j() called before the run was started")
        if self.result is not None:
            return self.result.energy_j
        return self.meter.total_now()[1] - self._run_start_mark[1]

    def event(self, message: str, level: str = "info") -> None:
        """Add a line to the run's record (``wattwise show`` lists them)."""
        self._event(level, message)

    def predict_total(self, total_steps: int) -> Prediction:
        """Predict time, energy and carbon of ``total_steps`` steps from the steps so far."""
        if self.meter is None or self._step_start is None:
            raise BadInput("no steps measured yet: call run.step() after each step or epoch")
        from wattwise.measure.predict import predict_counted

        kind = combined_kind(d.kind for d in self.meter.domains if d.in_total)
        return predict_counted(
            self._step_marks, total_steps, self._step_start, kind, self._current_intensity(),
            min_span_s=self.meter.interval_s,
        )

    def _current_intensity(self) -> tuple[float, str, float] | None:
        if self.carbon_options is None:
            return None
        try:
            from wattwise.carbon.pue import resolve_pue
            from wattwise.carbon.yearly import YearlySource
            from wattwise.carbon.zones import resolve_zone

            choice = resolve_zone(self.carbon_options.zone)
            name = choice.zone.name if choice.zone else None
            i = YearlySource().intensity_at(name, time.time())
            p = resolve_pue(self.carbon_options.pue, zone=name)
            return i.intensity_g_per_kwh, f"{i.zone}, {i.source}", p.pue
        except Exception:  # noqa: BLE001 - a prediction without carbon is still useful
            return None

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
        text = head + str(self.result)
        if self.emissions is not None:
            e = self.emissions
            text += (
                f"\n  emissions {e.emissions_g:.3g} gCO2eq ({e.low_g:.3g}-{e.high_g:.3g}) at "
                f"{e.avg_intensity_g_per_kwh:.0f} g/kWh [{e.zone}, {e.source}], PUE {e.pue:g}"
            )
        return text

    # -- recording ----------------------------------------------------------------

    def _open_store(self, sensors: list[Sensor]) -> None:
        try:
            from wattwise.records.recorder import RunRecorder
            from wattwise.records.store import Store

            # Wait briefly for the file check only: a locked database delays the
            # record, never the user's code.
            record = RunRecorder(Store(self.db, open_wait_s=0.25), warn=self._warn)
            host = host_info()
            if self.carbon_options is not None:
                # Stored at the start: a run lost before its summary (which records
                # them at the end) is then priced as it was started.
                host[STARTED_KEY] = started_carbon(self.carbon_options)
            record.create(
                name=self.name,
                started_unix_s=self._started_unix_s,
                host=host,
                hardware=hardware_info(sensors),
                sensors=self.meter.sensor_info() if self.meter else [],
                versions=versions(),
                command=self.command,
                pid=self._pid,
                tags=self.tags,
            )
            self.record = record
        except Exception as exc:  # noqa: BLE001 - recording is best effort
            self.record = None
            self._warn(f"run not recorded ({exc}); measuring anyway")

    def _record_samples(self, rows: list[Sample]) -> None:
        if self.record is not None:
            self.record.samples(rows)

    def _event(self, level: str, message: str) -> None:
        record = self.record
        if record is not None:
            self._safely(lambda: record.event(time.time(), level, message))

    def _safely(self, fn: Callable[[], Any]) -> Any:
        try:
            return fn()
        except Exception as exc:  # noqa: BLE001
            self._warn(f"could not write the run record: {exc}", key="write")
            return None

    def _warn(self, message: str, key: str | None = None) -> None:
        """One warning per kind of problem per run; the program goes on."""
        key = key or message
        if key in self._warned:
            return
        self._warned.add(key)
        text = message if message.startswith("wattwise:") else f"wattwise: {message}"
        warnings.warn(text, WattwiseWarning, stacklevel=4)

    # SIGTERM and SIGHUP (terminal closed) normally kill without unwinding; turn
    # them into SystemExit so ``with track(...)`` and ``finally`` blocks finalise
    # the record. A handler the program set itself is left alone.
    _FINALISING_SIGNALS = tuple(
        getattr(signal, n) for n in ("SIGTERM", "SIGHUP") if hasattr(signal, n)
    )

    def _install_sigterm(self) -> None:
        self._old_sigterm = {}
        if threading.current_thread() is not threading.main_thread():
            return
        for sig in self._FINALISING_SIGNALS:
            try:
                if signal.getsignal(sig) is signal.SIG_DFL:
                    self._old_sigterm[sig] = signal.signal(sig, _sigterm_to_exit)
            except (ValueError, OSError):
                continue

    def _restore_sigterm(self) -> None:
        if not self._old_sigterm or threading.current_thread() is not threading.main_thread():
            return
        for sig, old in self._old_sigterm.items():
            with contextlib.suppress(ValueError, OSError):
                if signal.getsignal(sig) is _sigterm_to_exit:
                    signal.signal(sig, old)
        self._old_sigterm = {}


class _Terminated(SystemExit):
    """SIGTERM or SIGHUP turned into ``SystemExit(128 + N)``: recorded as interrupted."""


def _sigterm_to_exit(signum: int, frame: FrameType | None) -> None:
    raise _Terminated(128 + signum)


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
    from 0.001 to 3600 s), ``db`` (record location; default ``$WATTWISE_DB`` or
    the user data dir), ``store=False`` to keep nothing on disk, ``sensors`` to
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
    if callable(name):
        return Run(None, **kwargs)(name)
    return Run(name, **kwargs)
