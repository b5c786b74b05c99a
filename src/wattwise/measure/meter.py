"""The meter: one background thread samples every sensor; windows are counter differences.

``begin(name)`` and ``end(name)`` read every sensor at the window's edges, so a
window is exact to the sensors' own resolution whatever the sampling interval;
windows may nest and overlap because each is just a pair of reads. The
background thread adds the power timeline and keeps integrating sensors fed.

Sensor faults never reach the caller: a failing sensor is warned about once,
the intervals it missed are marked as gaps, and its last good counter is used.
What a sensor returns is checked first (``wattwise.measure.readings``): a missing,
malformed, non-finite, backwards or stuck counter is such a fault too.

Window edges (``begin``, ``end``, ``total_now``) first wait for the accelerators
torch has started (``wattwise.sensors.devsync``): GPU kernels run asynchronously,
and without that wait a window would be charged for work queued in the one
before it. The background thread never synchronises.

Longer than ~500 lines because ``Meter`` is one object over its sampling thread and
counters: windows, attribution and fault handling share that state.
"""

from __future__ import annotations

import dataclasses
import json
import math
import numbers
import threading
import time
import unicodedata
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from wattwise.errors import BadInput
from wattwise.measure.marks import StepMark
from wattwise.measure.proctree import ProcessTree, machine_busy_cpu_s
from wattwise.measure.readings import (
    Fault,
    ReadCheck,
    error_text,
    sensor_label,
    short,
    usable_domains,
)
from wattwise.measure.results import Attribution, DomainResult, EnergyResult
from wattwise.sensors.base import Counter, Domain, Sensor
from wattwise.sensors.devsync import synchronize_devices
from wattwise.sensors.nvml_share import GpuShare, ProcessShare

#: Distinct notes a meter keeps, and warnings one sensor may raise, before the
#: rest are dropped (a sensor whose message changes every read).
MAX_NOTES = 100
MAX_WARNINGS_PER_SENSOR = 10


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


@dataclass
class _Snapshot:
    t_mono: float
    t_unix: float
    counters: dict[str, Counter]
    failed: frozenset[str]
    tree_cpu_s: float | None
    busy_cpu_s: float | None
    gap_notes: list[str] = field(default_factory=list)
    #: domains whose sensor was read (or failed) in this snapshot; others carry old values
    read: frozenset[str] = frozenset()


#: Sampling intervals a meter (and so ``wattwise.track``) accepts, seconds. The
#: shortest is ``wattwise bench --interval``'s (benchmarks sample 1 ms steps); the
#: longest is ``wattwise run --interval``'s: totals are exact whatever the interval,
#: and an hour is already far coarser than any grid-intensity series.
MIN_INTERVAL_S = 0.001
MAX_INTERVAL_S = 3600.0


def real_number(value: object) -> float | None:
    """``value`` as a float if it is a real number (not a bool, not text); else None."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        return None
    try:
        return float(value)
    except (TypeError, ValueError, OverflowError):
        return None


def check_interval(interval_s: object, what: str = "interval_s") -> float:
    """``interval_s`` as a float if it is a number of seconds from ``MIN_INTERVAL_S`` to
    ``MAX_INTERVAL_S``; BadInput naming ``what`` otherwise (text, NaN, infinities too)."""
    value = real_number(interval_s)
    if value is None:
        raise BadInput(f"{what} must be a number of seconds from {MIN_INTERVAL_S:g} to "
                       f"{MAX_INTERVAL_S:g}, got {short(interval_s)}")
    if not MIN_INTERVAL_S <= value <= MAX_INTERVAL_S:  # NaN fails this too
        raise BadInput(f"{what} must be from {MIN_INTERVAL_S:g} to {MAX_INTERVAL_S:g} "
                       f"seconds, got {value:g}")
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
    if not name.isprintable() and any(
        not ch.isprintable() and unicodedata.category(ch) != "Cs" for ch in name
    ):
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
        self._device_sync = device_sync
        self._given: list[Sensor] = check_sensors(sensors)
        #: Sensor warnings and faults seen so far, each once.
        self._noted: set[str | None] = set()
        self._warnings_shown: dict[str, int] = {}
        self.notes: list[str] = []
        self._failed_once: set[str] = set()
        #: the sensors in use, each with its name for messages and its read check
        self._plan: list[tuple[Sensor, str, ReadCheck]] = []
        self._domains: dict[str, Domain] = {}
        for s in self._given:
            self._add_sensor(s)
        self.sensors: list[Sensor] = [s for s, _, _ in self._plan]
        self._tree = _process_tree(pid, include_root) if pid is not None else None
        #: the tree's share of each GPU (NVML sensors that expose their handles)
        self._gpu_shares: list[ProcessShare] = (
            self._gpu_share_sources(pid, include_root) if pid is not None else []
        )
        self._lock = threading.Lock()
        self._last: dict[str, Counter] = {}
        #: per domain: (t_monotonic, t_unix, counter) at its last emitted sample
        self._dom_prev: dict[str, tuple[float, float, Counter]] = {}
        self._sensor_read_at: dict[int, float] = {}
        self._open: dict[str, _Snapshot] = {}
        self.gap_log: list[tuple[float, str]] = []
        self._window_gaps: dict[str, set[str]] = {}
        #: per open window: the domains that failed at some read inside it
        self._window_failed: dict[str, set[str]] = {}
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._callback_failed = False
        self.samples: list[Sample] = []
        for s, label, _ in self._plan:
            try:
                safe = float(s.max_safe_interval_s())  # type: ignore[attr-defined]
            except Exception:  # noqa: BLE001 - optional, and outside code
                continue
            if self.interval_s > safe:
                self._warn_once(
                    f"{id(s)}:interval",
                    f"{label}: sampling every {self.interval_s:g} s may miss counter "
                    f"wraps (safe up to {safe:g} s); use a shorter interval",
                )

    # -- public API -------------------------------------------------------------

    @property
    def domains(self) -> list[Domain]:
        return list(self._domains.values())

    def sensor_info(self) -> list[dict[str, Any]]:
        """Each sensor in use as ``describe()`` plus its domains, for run records.
        A ``describe()`` that fails or gives something not JSON-like is recorded as
        ``describe_error`` instead."""
        out: list[dict[str, Any]] = []
        for s, label, check in self._plan:
            try:
                d = json.loads(json.dumps(s.describe(), default=str))
                if not isinstance(d, dict):
                    raise TypeError(f"returned {type(d).__name__}, not a dict")
            except Exception as exc:  # noqa: BLE001 - outside code
                d = {"name": label, "describe_error": f"{type(exc).__name__}: {exc}"}
            d["domains"] = [self._domains[n].to_dict() for n in check.names]
            out.append(d)
        return out

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> Meter:
        """Take the first reading and start the sampling thread."""
        if self.running:
            return self
        self._emit(self._read_all(attribute=False))  # seeds the timeline
        self._poll_gpu_shares()
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name="wattwise-meter", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop the thread after one last reading; open windows stay open."""
        if self._thread is None:
            return
        self._stop.set()
        self._thread.join()
        self._thread = None
        self.tick()
        for s in self._given:
            try:
                s.close()
            except Exception as exc:  # noqa: BLE001 - closing must not fail the caller
                label = sensor_label(s)
                self._warn_once(f"{id(s)}:close", f"{label}: close() failed: {error_text(exc)}")

    def begin(self, name: str) -> None:
        """Open window ``name`` (windows may nest and overlap; names are unique while open)."""
        if (name := _own_or_checked(name)) in self._open:
            raise BadInput(f"window {name!r} is already open")
        self._sync_devices()
        snap = self._read_all()
        self._poll_gpu_shares()
        self._open[name] = snap
        self._window_gaps[name] = set()
        self._window_failed[name] = set()

    def end(self, name: str) -> EnergyResult:
        """Close window ``name`` and return what it used."""
        if (name := _own_or_checked(name)) not in self._open:
            raise BadInput(f"window {name!r} was never begun (open: {sorted(self._open)})")
        self._sync_devices()
        snap = self._read_all()
        start = self._open.pop(name)
        gaps = self._window_gaps.pop(name, set())
        failed = self._window_failed.pop(name, set())
        return self._with_gpu_shares(self._result(name, start, snap, gaps, failed))

    def total_now(self) -> StepMark:
        """Read every sensor now: ``(t_monotonic, energy_j, low_j, high_j)`` summed over the
        domains counted in totals, cumulative since the sensors started. For marks such
        as training steps; windows remain the exact way to measure a span."""
        self._sync_devices()
        snap = self._read_all(attribute=False)
        e = lo = hi = 0.0
        for name, d in self._domains.items():
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
            self._warn_once(
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

    def _loop(self) -> None:
        next_t = time.monotonic() + self._period()
        while True:
            # NaN-proof: min/max with a NaN first argument would keep the NaN
            wait = next_t - time.monotonic()
            if not 0.0 <= wait <= MAX_INTERVAL_S:
                wait = 0.0 if wait < 0 else MAX_INTERVAL_S
            if self._stop.wait(wait):
                return
            if time.monotonic() < next_t:  # woke early: only when a wait was capped
                continue
            try:
                self.tick()
            except Exception as exc:  # noqa: BLE001 - the thread must survive anything
                self._warn_once("meter", f"sampling failed: {exc}")
            next_t += self._period()
            now = time.monotonic()
            if next_t < now:  # fell behind (suspended VM, heavy load): don't burst
                next_t = now + self._period()

    def _add_sensor(self, s: Sensor) -> None:
        """Take the sensor's domains, once; a sensor with none usable is left out."""
        label = sensor_label(s)
        kept, problem = usable_domains(s, label, set(self._domains))
        if not kept:
            problem = f"{problem or f'{label}: domains() gave none'}; this sensor is not used"
        if problem:
            self._note(problem)
            self._warn_once(f"{id(s)}:domains", problem)
        if not kept:
            return
        for d in kept:
            self._domains[d.name] = d
        try:
            stuck_check = bool(getattr(s, "stuck_check", True))
        except Exception:  # noqa: BLE001 - a property may raise
            stuck_check = True
        names = [d.name for d in kept]
        self._plan.append((s, label, ReadCheck(names, self.stuck_after_s if stuck_check else None)))

    def _due(self, s: Sensor, t_mono: float) -> bool:
        """Whether a tick reads ``s`` now (see ``min_read_interval_s``)."""
        last = self._sensor_read_at.get(id(s))
        if last is None:
            return True
        try:
            every = float(getattr(s, "min_read_interval_s", 0.0) or 0.0)
        except Exception:  # noqa: BLE001 - junk means "every tick"
            every = 0.0
        return not (every > 0 and t_mono - last < every)

    def _read_all(self, attribute: bool = True, only_due: bool = False) -> _Snapshot:
        """Read every sensor. Process-tree CPU time is read only at window edges
        (``attribute=True``): walking the process table costs ~1 ms a read, and
        attribution needs nothing between a window's two ends. Warnings are given
        once the readings are stored, so one escalated to an error loses nothing."""
        to_warn: list[str] = []
        with self._lock:
            t_mono = self._clock()
            t_unix = time.time()
            failed: set[str] = set()
            gap_notes: list[str] = []
            attempted: set[str] = set()
            for s, label, check in self._plan:
                if only_due and not self._due(s, t_mono):
                    continue
                self._sensor_read_at[id(s)] = t_mono
                attempted.update(check.names)
                for fault in self._read_one(s, check, t_mono, t_unix):
                    text = fault.text(label)
                    if fault.gap:
                        failed.update(fault.domains)
                        gap_notes.append(text)
                    if self._once(f"{id(s)}:{fault.kind}:{fault.domains}"):
                        self._note(text)
                    if self._once(f"{id(s)}:{fault.kind}"):
                        to_warn.append(text + ("; marked as a gap" if fault.gap else ""))
                to_warn.extend(self._drain_warnings(s, label))
            tree = busy = None
            if self._tree is not None and attribute:
                try:
                    tree = self._tree.cpu_s()
                    busy = machine_busy_cpu_s()
                except Exception as exc:  # noqa: BLE001
                    if self._once("attribution"):
                        to_warn.append(f"process attribution failed: {exc}")
            if failed:
                for notes in self._window_gaps.values():
                    notes.update(gap_notes)
                for domains in self._window_failed.values():
                    domains.update(failed)
                self.gap_log.append((t_unix, "; ".join(gap_notes)))
            snap = _Snapshot(
                t_mono, t_unix, dict(self._last), frozenset(failed), tree, busy, gap_notes,
                frozenset(attempted),
            )
        for message in to_warn:
            warnings.warn(message, WattwiseWarning, stacklevel=3)
        return snap

    def _read_one(self, s: Sensor, check: ReadCheck, t_mono: float, t_unix: float) -> list[Fault]:
        """Read one sensor into the last good counters; what was wrong, as faults."""
        try:
            good, faults = check.accept(s.read(), t_mono, t_unix)
        except (Exception, SystemExit, GeneratorExit) as exc:  # noqa: BLE001 - a sensor's
            # SystemExit is a bug of the sensor, not the program's wish to end
            return [Fault("read failed", tuple(check.names), f"read failed: {error_text(exc)}")]
        except KeyboardInterrupt as exc:
            if threading.current_thread() is threading.main_thread():
                raise  # the user's Ctrl-C, arriving during a window edge's read
            return [Fault("read failed", tuple(check.names), f"read failed: {error_text(exc)}")]
        self._last.update(good)
        return faults

    def _drain_warnings(self, s: Sensor, label: str) -> list[str]:
        """Notes the sensor queued since its last read; the new ones, to warn about."""
        try:
            got = s.warnings()
            texts = [got] if isinstance(got, str) else [str(w) for w in got or ()]
        except Exception as exc:  # noqa: BLE001 - outside code
            text = f"{label}: warnings() failed: {error_text(exc)}"
            if self._once(f"{id(s)}:warnings"):
                self._note(text)
                return [text]
            return []
        out = []
        for w in texts:
            text = f"{label}: {w}"
            self._note(text)
            shown = self._warnings_shown
            n = shown.get(label, 0)
            if n <= MAX_WARNINGS_PER_SENSOR and self._once(f"{label}:{w}"):
                shown[label] = n + 1
                out.append(text if n < MAX_WARNINGS_PER_SENSOR else
                           f"{label}: more warnings; the rest are in the run's notes only")
        return out

    def _emit(self, snap: _Snapshot) -> list[Sample]:
        """One sample per domain read in ``snap``, covering the time since its last sample."""
        rows: list[Sample] = []
        for name in self._domains:
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
            e = _delta(a.energy_j, b.energy_j)
            rows.append(
                Sample(
                    t_unix_s=snap.t_unix,
                    domain=name,
                    energy_j=e,
                    power_w=e / dt if dt > 0 else 0.0,
                    low_j=_delta(a.low_j, b.low_j),
                    high_j=_delta(a.high_j, b.high_j),
                    gap=name in snap.failed,
                    start_unix_s=snap.t_unix - dt,
                )
            )
        self.samples.extend(rows)
        if len(self.samples) > MAX_SAMPLES_KEPT:
            self.samples = coarsen(self.samples)
        if rows and self.on_sample is not None:
            try:
                self.on_sample(rows)
            except Exception as exc:  # noqa: BLE001 - storage faults must not stop sampling
                self._warn_once("on_sample", f"could not record samples: {exc}")
        return rows

    def _result(
        self, name: str, a: _Snapshot, b: _Snapshot, gaps: set[str], failed: set[str]
    ) -> EnergyResult:
        """``failed``: domains that failed at a read inside the window; only they are gaps."""
        duration = max(0.0, b.t_mono - a.t_mono)
        out: list[DomainResult] = []
        missing: list[str] = []
        for dname, d in self._domains.items():
            ca, cb = a.counters.get(dname), b.counters.get(dname)
            if ca is None or cb is None:
                missing.append(dname)
                continue
            e = _delta(ca.energy_j, cb.energy_j)
            out.append(
                DomainResult(
                    domain=dname,
                    component=d.component,
                    source=d.source,
                    kind=d.kind,
                    in_total=d.in_total,
                    energy_j=e,
                    low_j=_delta(ca.low_j, cb.low_j),
                    high_j=_delta(ca.high_j, cb.high_j),
                    avg_power_w=e / duration if duration > 0 else 0.0,
                    gap=dname in a.failed or dname in b.failed or dname in failed,
                )
            )
        all_gaps = sorted(gaps)
        if missing:
            all_gaps.append(f"never read, not in totals: {', '.join(missing)}")
        return EnergyResult(
            name=name,
            start_unix_s=a.t_unix,
            end_unix_s=b.t_unix,
            duration_s=duration,
            domains=tuple(out),
            attribution=self._attribution(a, b, out),
            gaps=tuple(all_gaps),
        )

    def _attribution(
        self, a: _Snapshot, b: _Snapshot, domains: list[DomainResult]
    ) -> Attribution | None:
        if self._tree is None or None in (a.tree_cpu_s, b.tree_cpu_s, a.busy_cpu_s, b.busy_cpu_s):
            return None
        tree = max(0.0, b.tree_cpu_s - a.tree_cpu_s)  # type: ignore[operator]
        busy = max(0.0, b.busy_cpu_s - a.busy_cpu_s)  # type: ignore[operator]
        # The two clocks are sampled a few µs apart; a tree can't use more than the machine.
        busy = max(busy, tree)
        share = tree / busy if busy > 0 else 0.0
        cpu = sum(d.energy_j for d in domains if d.in_total and d.component == "cpu")
        return Attribution(
            pid=self._tree.pid,
            tree_cpu_s=tree,
            machine_busy_cpu_s=busy,
            share=share,
            cpu_energy_j=cpu,
            attributed_cpu_energy_j=cpu * share,
            unattributed_cpu_energy_j=cpu * (1.0 - share),
        )

    def _gpu_share_sources(self, pid: int, include_root: bool) -> list[ProcessShare]:
        """A ``ProcessShare`` per sensor that exposes its GPU handles (NVML); one that
        can't say which process used its GPUs is a note, not an error."""
        out: list[ProcessShare] = []
        for s, label, _ in self._plan:
            try:
                if not callable(getattr(s, "gpu_handles", None)):
                    continue
                out.append(ProcessShare.from_sensor(s, pid, include_root))
            except Exception as exc:  # noqa: BLE001 - attribution is optional
                why = getattr(exc, "reason", None) or error_text(exc)
                self._note(f"{label}: no per-process GPU attribution: {why}")
        return out

    def _poll_gpu_shares(self) -> None:
        """Fetch the GPUs' per-process samples since the last poll (every tick and edge)."""
        for share in self._gpu_shares:
            try:
                share.poll()
            except Exception as exc:  # noqa: BLE001 - never stops measuring
                self._warn_once("gpu-share", f"per-process GPU attribution failed: "
                                             f"{error_text(exc)}")

    def _with_gpu_shares(self, res: EnergyResult) -> EnergyResult:
        """``res`` with each GPU's share for the process tree over its window."""
        if not self._gpu_shares:
            return res
        rows: list[GpuShare] = []
        for share in self._gpu_shares:
            try:
                rows.extend(share.for_window(res).values())
            except Exception as exc:  # noqa: BLE001 - never loses the window
                self._warn_once("gpu-share", f"per-process GPU attribution failed: "
                                             f"{error_text(exc)}")
            for note in list(share.notes):
                self._note(f"GPU attribution: {note}")
        return dataclasses.replace(res, gpu_attribution=tuple(rows))

    def _once(self, key: str) -> bool:
        """True the first time ``key`` is seen: one warning per sensor and kind of fault."""
        if key in self._failed_once:
            return False
        self._failed_once.add(key)
        return True

    def _note(self, text: str) -> None:
        """Keep a note once; at most ``MAX_NOTES`` (a sensor whose message changes
        every read must not grow the run's record without bound)."""
        seen = self._noted
        if text in seen:
            return
        if len(seen) >= MAX_NOTES:
            if len(seen) == MAX_NOTES:
                seen.add(None)
                self.notes.append(f"more than {MAX_NOTES} notes: the rest are not kept")
            return
        seen.add(text)
        self.notes.append(text)

    def _warn_once(self, key: str, message: str) -> None:
        if self._once(key):
            warnings.warn(message, WattwiseWarning, stacklevel=3)


def _delta(a: float, b: float) -> float:
    """Energy between two checked counters: finite and >= 0 (rounding can't make it less)."""
    d = b - a
    return d if math.isfinite(d) and d > 0 else 0.0


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
