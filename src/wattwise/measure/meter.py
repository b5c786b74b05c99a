"""The meter: one background thread samples every sensor; windows are counter differences.

``begin(name)`` and ``end(name)`` read every sensor at the window's edges, so a
window is exact to the sensors' own resolution whatever the sampling interval;
windows may nest and overlap because each is just a pair of reads
(``wattwise.measure.windows``). The background thread (``wattwise.measure.sampling``)
adds the power timeline and keeps integrating sensors fed.

Sensor faults never reach the caller: a failing sensor is warned about once,
the intervals it missed are marked as gaps, and its last good counter is used
(``wattwise.measure.sensor_set``). What a sensor returns is checked first
(``wattwise.measure.readings``): a missing, malformed, non-finite, backwards or stuck
counter is such a fault too.

Window edges (``begin``, ``end``, ``total_now``) first wait for the accelerators
torch has started (``wattwise.sensors.devsync``): GPU kernels run asynchronously,
and without that wait a window would be charged for work queued in the one
before it. The background thread never synchronises.

One lock (``Meter._lock``) is held while the sensors are read and the readings stored,
so the thread's ticks and the caller's window edges never interleave their reads.
"""

from __future__ import annotations

import math
import numbers
import threading
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from wattwise._userinput import holds_control
from wattwise.errors import BadInput
from wattwise.measure.gpu_shares import GpuShares
from wattwise.measure.intervals import MAX_INTERVAL_S as MAX_INTERVAL_S
from wattwise.measure.intervals import MIN_INTERVAL_S as MIN_INTERVAL_S
from wattwise.measure.intervals import MIN_RECORDED_INTERVAL_S as MIN_RECORDED_INTERVAL_S
from wattwise.measure.marks import StepMark
from wattwise.measure.notices import MAX_NOTES as MAX_NOTES  # importable from here too
from wattwise.measure.notices import MAX_WARNINGS_PER_SENSOR as MAX_WARNINGS_PER_SENSOR
from wattwise.measure.notices import Notices
from wattwise.measure.proctree import ProcessTree, machine_busy_cpu_s
from wattwise.measure.readings import error_text, short
from wattwise.measure.results import EnergyResult
from wattwise.measure.sampling import SamplingThread
from wattwise.measure.sensor_set import SensorSet
from wattwise.measure.windows import OpenWindows, Snapshot, delta, window_result
from wattwise.sensors.base import Counter, Domain, Sensor
from wattwise.sensors.devsync import synchronize_devices


class WattwiseWarning(UserWarning):
    """A measurement problem the user should know about; tracking goes on."""


@dataclass(frozen=True)
class Sample:
    """One domain over one sampling interval (energy in the interval, not cumulative)."""

    t_unix_s: float
    domain: str
    energy_j: float
    power_w: float
    low_j: float
    high_j: float
    gap: bool = False
    #: start of the interval (the domain's previous sample); None when unknown
    start_unix_s: float | None = None


#: Samples a meter keeps in memory for pricing its run. Past this, neighbouring
#: samples of a domain are merged two by two (the timeline halves its
#: resolution, its energy is unchanged): a run of weeks stays in a few MB, and
#: its resolution stays far finer than any grid-intensity series (5 min to 1 h).
#: The run record keeps every sample it was given.
MAX_SAMPLES_KEPT = 50_000


def coarsen(samples: list[Sample]) -> list[Sample]:
    """Merge each domain's samples two by two, in time order: energy and ranges add
    up, the merged one spans both intervals, a gap in either is a gap."""
    by_domain: dict[str, list[Sample]] = {}
    for s in samples:
        by_domain.setdefault(s.domain, []).append(s)
    out: list[Sample] = []
    for rows in by_domain.values():
        for i in range(0, len(rows) - 1, 2):
            a, b = rows[i], rows[i + 1]
            start = a.start_unix_s if a.start_unix_s is not None else a.t_unix_s
            e = a.energy_j + b.energy_j
            dt = b.t_unix_s - start
            out.append(Sample(
                t_unix_s=b.t_unix_s, domain=a.domain, energy_j=e,
                power_w=e / dt if dt > 0 else b.power_w,
                low_j=a.low_j + b.low_j, high_j=a.high_j + b.high_j,
                gap=a.gap or b.gap, start_unix_s=start,
            ))
        if len(rows) % 2:
            out.append(rows[-1])
    out.sort(key=lambda s: s.t_unix_s)
    return out




def real_number(value: object) -> float | None:
    """``value`` as a float if it is a real number (not a bool, not text); else None."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        return None
    try:
        return float(value)
    except (TypeError, ValueError, OverflowError):
        return None


def check_interval(interval_s: object, what: str = "interval_s",
                   low: float = MIN_INTERVAL_S) -> float:
    """``interval_s`` as a float if it is a number of seconds from ``low`` to
    ``MAX_INTERVAL_S``; BadInput naming ``what`` otherwise (text, NaN, infinities too)."""
    value = real_number(interval_s)
    if value is None:
        raise BadInput(f"{what} must be a number of seconds from {low:g} to "
                       f"{MAX_INTERVAL_S:g}, got {short(interval_s)}")
    if not low <= value <= MAX_INTERVAL_S:  # NaN fails this too
        raise BadInput(f"{what} must be from {low:g} to {MAX_INTERVAL_S:g} "
                       f"seconds, got {value!r}")  # 0.009999999999999 is no "0.01"
    return value


def check_callbacks(
    on_sample: Any, clock: Any
) -> tuple[Callable[[list[Sample]], None] | None, Callable[[], float]]:
    """Both, unless ``on_sample`` is not a function (or None) or ``clock`` not a function
    that returns a finite number of seconds, tried once now (BadInput): a clock that
    returns text or NaN would break every sample later, a callback that is no function
    every tick."""
    if on_sample is not None and not callable(on_sample):
        raise BadInput(f"on_sample must be a function taking a list of samples, or None, "
                       f"got {short(on_sample)}")
    if not callable(clock):
        raise BadInput(f"clock must be a function returning seconds, got {short(clock)}")
    try:
        now = clock()
    except Exception as exc:  # noqa: BLE001 - any failure of the user's clock, said
        raise BadInput(f"clock failed when called: {error_text(exc)}") from None
    value = real_number(now)
    if value is None or not math.isfinite(value):
        raise BadInput(f"clock must return a finite number of seconds, returned {short(now)}")
    return on_sample, clock


def check_device_sync(device_sync: Any) -> Callable[[], object] | None:
    """``device_sync`` unless it is neither a function nor None (BadInput): it is called at
    every window edge, where a failure only warns."""
    if device_sync is not None and not callable(device_sync):
        raise BadInput(f"device_sync must be a function or None, got {short(device_sync)}")
    return device_sync


#: Longest window name, as long as a run's name may be.
MAX_WINDOW_NAME = 256


def check_window_name(name: object) -> str:
    """``name`` if it can name a window: text, not blank, at most ``MAX_WINDOW_NAME``
    characters, none of them control or invisible (the rules of a run's name)."""
    if not isinstance(name, str):
        raise BadInput(f"window name must be text, got {short(name)}")
    if not name.strip():
        raise BadInput(f"window name is blank ({short(name)}); give the window a name")
    if len(name) > MAX_WINDOW_NAME:
        raise BadInput(f"window name is {len(name)} characters long; at most "
                       f"{MAX_WINDOW_NAME}")
    if holds_control(name):
        raise BadInput(f"window name {short(name)} holds control or invisible characters")
    return name


#: What starts the name of a window wattwise opens for itself (a run's whole window):
#: no name a user may give (:func:`check_window_name`) can start with it.
OWN_WINDOW = "\0"


def _own_or_checked(name: object) -> str:
    if isinstance(name, str) and name.startswith(OWN_WINDOW):
        return name
    return check_window_name(name)


def check_pid(pid: object, what: str = "pid", *, must_exist: bool = True) -> int:
    """``pid`` if it is the id of a process that exists now (with ``must_exist``); BadInput
    naming ``what`` otherwise."""
    import psutil

    if isinstance(pid, bool) or not isinstance(pid, numbers.Integral):
        raise BadInput(f"{what} must be a process id (a whole number), got {short(pid)}")
    value = int(pid)
    if value < 1:
        raise BadInput(f"{what} must be a process id >= 1, got {value}")
    if not must_exist:
        return value
    try:
        exists = psutil.pid_exists(value)
    except (OverflowError, ValueError, psutil.Error):
        exists = False
    if not exists:
        raise BadInput(f"{what} {value}: no such process")
    return value


#: Shortest span without a counter change that counts as stuck: a hundred NVML
#: counter updates (every 100 ms, longest gap seen 118 ms) and thousands of RAPL
#: ones (~1 ms). ``Meter`` uses at least five sampling intervals.
STUCK_AFTER_S = 10.0


class Meter:
    """Samples sensors in one background thread and measures named windows.

    ``stuck_after_s`` (default ``max(10 s, 5 x interval_s)``): a counter that
    has not moved for that long while reads succeed is a gap. Sensors whose
    ``stuck_check`` is False are left out of that check.

    ``device_sync`` is called before the counters are read at every window edge
    (default: wait for the GPUs torch has started; ``None``: never wait). A
    failing call is one warning; the counters are read anyway.

    >>> m = Meter(interval_s=1.0).start()      # discovers the best sensors
    >>> m.begin("train"); ...; r = m.end("train")
    >>> print(r); m.stop()
    """

    def __init__(
        self,
        sensors: Sequence[Sensor] | None = None,
        *,
        interval_s: float = 1.0,
        pid: int | None = None,
        include_root: bool = True,
        on_sample: Callable[[list[Sample]], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
        stuck_after_s: float | None = None,
        device_sync: Callable[[], object] | None = synchronize_devices,
    ) -> None:
        interval_s = check_interval(interval_s)
        if stuck_after_s is None:
            stuck_after_s = max(STUCK_AFTER_S, 5 * interval_s)
        stuck = real_number(stuck_after_s)
        if stuck is None or not 0 < stuck < math.inf:
            raise BadInput(f"stuck_after_s must be a number of seconds > 0, got "
                           f"{short(stuck_after_s)}")
        if pid is not None:  # whether it exists: when its tree is looked at, below
            pid = check_pid(pid, must_exist=False)
        if sensors is None:
            from wattwise.sensors import discover

            sensors = discover().sensors
        self.interval_s = interval_s
        self.stuck_after_s = stuck
        self.on_sample, self._clock = check_callbacks(on_sample, clock)
        self._device_sync = check_device_sync(device_sync)
        #: Sensor warnings and faults seen so far, each once; ``notes`` is its list.
        self._notices = Notices(WattwiseWarning)
        self.notes: list[str] = self._notices.notes
        self._sensors = SensorSet(check_sensors(sensors), stuck, self._notices)
        self.sensors: list[Sensor] = [s for s, _, _ in self._sensors.plan]
        self._tree = _process_tree(pid, include_root) if pid is not None else None
        #: the tree's share of each GPU (NVML sensors that expose their handles)
        self._gpu_shares = GpuShares(
            ((s, label) for s, label, _ in self._sensors.plan), pid, include_root, self._notices
        )
        self._lock = threading.Lock()
        #: per domain: (t_monotonic, t_unix, counter) at its last emitted sample
        self._dom_prev: dict[str, tuple[float, float, Counter]] = {}
        self._open = OpenWindows()
        self.gap_log: list[tuple[float, str]] = []
        self._sampler = SamplingThread(MAX_INTERVAL_S)
        self.samples: list[Sample] = []
        self._sensors.warn_unsafe_interval(self.interval_s)

    # -- public API -------------------------------------------------------------

    @property
    def domains(self) -> list[Domain]:
        return list(self._sensors.domains.values())

    def sensor_info(self) -> list[dict[str, Any]]:
        """Each sensor in use as ``describe()`` plus its domains, for run records.
        A ``describe()`` that fails or gives something not JSON-like is recorded as
        ``describe_error`` instead."""
        return self._sensors.info()

    @property
    def running(self) -> bool:
        return self._sampler.running

    def start(self) -> Meter:
        """Take the first reading and start the sampling thread."""
        if self.running:
            return self
        self._emit(self._read_all(attribute=False))  # seeds the timeline
        self._poll_gpu_shares()
        self._sampler.start(lambda: self.tick(), self._period, self._sampling_failed)
        return self

    def stop(self) -> None:
        """Stop the thread after one last reading of every sensor (a costly one too: the
        timeline reaches the end); open windows stay open."""
        if not self._sampler.stop():
            return
        snap = self._read_all(attribute=False)
        self._poll_gpu_shares()
        self._emit(snap)
        self._sensors.close()

    def begin(self, name: str) -> float:
        """Open window ``name`` (windows may nest and overlap; names are unique while open);
        the time it opened at (unix seconds)."""
        self._open.check_new(name := _own_or_checked(name))
        self._sync_devices()
        snap = self._read_all()
        self._poll_gpu_shares()
        with self._lock:  # the sampling thread marks gaps in the open windows
            self._open.check_new(name)
            self._open.open(name, snap)
        return float(snap.t_unix)

    def end(self, name: str) -> EnergyResult:
        """Close window ``name`` and return what it used."""
        self._open.check_open(name := _own_or_checked(name))
        self._sync_devices()
        snap = self._read_all()
        with self._lock:
            self._open.check_open(name)
            start, gaps, failed = self._open.close(name)
        pid = self._tree.pid if self._tree is not None else None
        res = window_result(name, self._sensors.domains, start, snap, gaps, failed, pid)
        return self._gpu_shares.attach(res)

    def total_now(self) -> StepMark:
        """Read every sensor now: ``(t_monotonic, energy_j, low_j, high_j)`` summed over the
        domains counted in totals, cumulative since the sensors started. For marks such
        as training steps; windows remain the exact way to measure a span."""
        self._sync_devices()
        snap = self._read_all(attribute=False)
        e = lo = hi = 0.0
        for name, d in self._sensors.domains.items():
            c = snap.counters.get(name)
            if c is not None and d.in_total:
                e, lo, hi = e + c.energy_j, lo + c.low_j, hi + c.high_j
        return StepMark(snap.t_mono, e, lo, hi)

    def tick(self) -> list[Sample]:
        """Read the sensors that are due and record one sample per domain read.

        The thread calls this every ``interval_s``. A sensor whose reads are
        costly declares ``min_read_interval_s`` (NVML's energy counter: ~3 ms a
        read) and is read only that often here; window edges always read it.
        The first call only seeds the timeline.
        """
        snap = self._read_all(attribute=False, only_due=True)
        self._poll_gpu_shares()  # the driver keeps only seconds of per-process samples
        return self._emit(snap)

    def __enter__(self) -> Meter:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- internals --------------------------------------------------------------

    def _sync_devices(self) -> None:
        """Let queued accelerator work finish, so it is counted in the window it ran in.

        Outside the lock: the wait may be long, and the sampling thread must go on.
        """
        if self._device_sync is None:
            return
        try:
            self._device_sync()
        except Exception as exc:  # noqa: BLE001 - a device fault must not stop measuring
            self._notices.warn_once(
                "device-sync",
                f"could not synchronise the accelerator before reading counters "
                f"({error_text(exc)}); windows may include or miss work still queued",
            )

    def _period(self) -> float:
        """The sampling interval, within bounds whatever ``interval_s`` was set to since
        (the thread must not die of a value: an hour is the most it waits)."""
        try:
            p = float(self.interval_s)
        except Exception:  # noqa: BLE001 - not a number at all: the default
            return 1.0
        if MIN_INTERVAL_S <= p <= MAX_INTERVAL_S:
            return p
        return MIN_INTERVAL_S if p < MIN_INTERVAL_S else MAX_INTERVAL_S if p > 0 else 1.0

    def _sampling_failed(self, exc: Exception) -> None:
        self._notices.warn_once("meter", f"sampling failed: {exc}")

    def _read_all(self, attribute: bool = True, only_due: bool = False) -> Snapshot:
        """Read every sensor. Process-tree CPU time is read only at window edges
        (``attribute=True``): walking the process table costs ~1 ms a read, and
        attribution needs nothing between a window's two ends. Warnings are given
        once the readings are stored, so one escalated to an error loses nothing."""
        with self._lock:
            t_mono = self._clock()
            t_unix = time.time()
            got = self._sensors.read(t_mono, t_unix, only_due)
            tree = busy = None
            if self._tree is not None and attribute:
                try:
                    tree = self._tree.cpu_s()
                    busy = machine_busy_cpu_s()
                except Exception as exc:  # noqa: BLE001
                    if self._notices.once("attribution"):
                        got.to_warn.append(f"process attribution failed: {exc}")
            if got.failed:
                self._open.mark(got.failed, got.gap_notes)
                self.gap_log.append((t_unix, "; ".join(got.gap_notes)))
            snap = Snapshot(
                t_mono, t_unix, dict(self._sensors.last), frozenset(got.failed), tree, busy,
                got.gap_notes, frozenset(got.attempted),
            )
        for message in got.to_warn:
            warnings.warn(message, WattwiseWarning, stacklevel=3)
        return snap

    def _emit(self, snap: Snapshot) -> list[Sample]:
        """One sample per domain read in ``snap``, covering the time since its last sample."""
        rows: list[Sample] = []
        for name in self._sensors.domains:
            if name not in snap.read:
                continue
            b = snap.counters.get(name)
            if b is None:  # never read successfully yet
                continue
            prev = self._dom_prev.get(name)
            self._dom_prev[name] = (snap.t_mono, snap.t_unix, b)
            if prev is None:
                continue
            t0, _, a = prev
            dt = snap.t_mono - t0
            e = delta(a.energy_j, b.energy_j)
            rows.append(Sample(
                t_unix_s=snap.t_unix, domain=name, energy_j=e,
                power_w=e / dt if dt > 0 else 0.0,
                low_j=delta(a.low_j, b.low_j), high_j=delta(a.high_j, b.high_j),
                gap=name in snap.failed, start_unix_s=snap.t_unix - dt,
            ))
        self.samples.extend(rows)
        if len(self.samples) > MAX_SAMPLES_KEPT:
            self.samples = coarsen(self.samples)
        if rows and self.on_sample is not None:
            try:
                self.on_sample(rows)
            except Exception as exc:  # noqa: BLE001 - storage faults must not stop sampling
                self._notices.warn_once("on_sample", f"could not record samples: {exc}")
        return rows

    def _poll_gpu_shares(self) -> None:
        """Fetch the GPUs' per-process samples since the last poll (every tick and edge)."""
        self._gpu_shares.poll()


def _process_tree(pid: int, include_root: bool) -> ProcessTree:
    """The tree of ``pid``; BadInput if the process is gone or cannot be looked at."""
    import psutil

    try:
        return ProcessTree(pid, include_root)
    except (psutil.NoSuchProcess, OverflowError, ValueError):  # too large for a pid_t too
        raise BadInput(f"pid {pid}: no such process") from None
    except psutil.Error as exc:
        raise BadInput(f"pid {pid}: cannot read the process ({error_text(exc)})") from None


def check_sensors(sensors: object) -> list[Sensor]:
    """The caller's sensors as a list; anything that is not sensors is the caller's error."""
    try:
        if isinstance(sensors, (str, bytes)):
            raise TypeError
        out = list(sensors)  # type: ignore[call-overload]
        if all(callable(getattr(s, "read", None)) for s in out):
            return out
    except Exception:  # noqa: BLE001 - reported just below
        pass
    raise BadInput(f"sensors must be a list of Sensor objects, got {short(sensors)}")
