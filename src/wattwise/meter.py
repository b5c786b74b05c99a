"""The meter: one background thread samples every sensor; windows are counter differences.

``begin(name)`` and ``end(name)`` read every sensor at the window's edges, so a
window is exact to the sensors' own resolution whatever the sampling interval;
windows may nest and overlap because each is just a pair of reads. The
background thread adds the power timeline and keeps integrating sensors fed.

Sensor faults never reach the caller: a failing sensor is warned about once,
the intervals it missed are marked as gaps, and its last good counter is used.
"""

from __future__ import annotations

import contextlib
import threading
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from wattwise._proctree import ProcessTree, machine_busy_cpu_s
from wattwise.errors import BadInput
from wattwise.results import Attribution, DomainResult, EnergyResult
from wattwise.sensors.base import Counter, Domain, Sensor


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


class Meter:
    """Samples sensors in one background thread and measures named windows.

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
    ) -> None:
        if not interval_s > 0:
            raise BadInput(f"interval_s must be > 0, got {interval_s!r}")
        if sensors is None:
            from wattwise.sensors import discover

            sensors = discover().sensors
        self.sensors: list[Sensor] = list(sensors)
        self.interval_s = float(interval_s)
        self.on_sample = on_sample
        self._clock = clock
        self._domains: dict[str, Domain] = {}
        for s in self.sensors:
            for d in s.domains():
                self._domains[d.name] = d
        self._tree = ProcessTree(pid, include_root) if pid is not None else None
        self._lock = threading.Lock()
        self._last: dict[str, Counter] = {}
        self._failed_once: set[str] = set()
        #: per domain: (t_monotonic, t_unix, counter) at its last emitted sample
        self._dom_prev: dict[str, tuple[float, float, Counter]] = {}
        self._sensor_read_at: dict[int, float] = {}
        self._open: dict[str, _Snapshot] = {}
        self.gap_log: list[tuple[float, str]] = []
        self._window_gaps: dict[str, set[str]] = {}
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._callback_failed = False
        self.samples: list[Sample] = []
        #: Sensor warnings seen so far (e.g. a possibly missed counter wrap), each once.
        self.notes: list[str] = []
        for s in self.sensors:
            limit = getattr(s, "max_safe_interval_s", None)
            if callable(limit):
                try:
                    safe = float(limit())
                except Exception:  # noqa: BLE001
                    continue
                if self.interval_s > safe:
                    self._warn_once(
                        f"{s.name}:interval",
                        f"{s.name}: sampling every {self.interval_s:g} s may miss counter "
                        f"wraps (safe up to {safe:g} s); use a shorter interval",
                    )

    # -- public API -------------------------------------------------------------

    @property
    def domains(self) -> list[Domain]:
        return list(self._domains.values())

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> Meter:
        """Take the first reading and start the sampling thread."""
        if self.running:
            return self
        self._emit(self._read_all(attribute=False))  # seeds the timeline
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
        for s in self.sensors:
            with contextlib.suppress(Exception):  # closing must not fail the caller
                s.close()

    def begin(self, name: str) -> None:
        """Open window ``name`` (windows may nest and overlap; names are unique while open)."""
        if name in self._open:
            raise BadInput(f"window {name!r} is already open")
        snap = self._read_all()
        self._open[name] = snap
        self._window_gaps[name] = set()

    def end(self, name: str) -> EnergyResult:
        """Close window ``name`` and return what it used."""
        if name not in self._open:
            raise BadInput(f"window {name!r} was never begun (open: {sorted(self._open)})")
        snap = self._read_all()
        start = self._open.pop(name)
        gaps = self._window_gaps.pop(name, set())
        return self._result(name, start, snap, gaps)

    def total_now(self) -> tuple[float, float, float, float]:
        """Read every sensor now: ``(t_monotonic, energy_j, low_j, high_j)`` summed over the
        domains counted in totals, cumulative since the sensors started. For marks such
        as training steps; windows remain the exact way to measure a span."""
        snap = self._read_all(attribute=False)
        e = lo = hi = 0.0
        for name, d in self._domains.items():
            c = snap.counters.get(name)
            if c is not None and d.in_total:
                e, lo, hi = e + c.energy_j, lo + c.low_j, hi + c.high_j
        return snap.t_mono, e, lo, hi

    def tick(self) -> list[Sample]:
        """Read the sensors that are due and record one sample per domain read.

        The thread calls this every ``interval_s``. A sensor whose reads are
        costly declares ``min_read_interval_s`` (NVML's energy counter: ~3 ms a
        read) and is read only that often here; window edges always read it.
        The first call only seeds the timeline.
        """
        snap = self._read_all(attribute=False, only_due=True)
        return self._emit(snap)

    def __enter__(self) -> Meter:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- internals --------------------------------------------------------------

    def _loop(self) -> None:
        next_t = time.monotonic() + self.interval_s
        while not self._stop.wait(max(0.0, next_t - time.monotonic())):
            try:
                self.tick()
            except Exception as exc:  # noqa: BLE001 - the thread must survive anything
                self._warn_once("meter", f"sampling failed: {exc}")
            next_t += self.interval_s
            now = time.monotonic()
            if next_t < now:  # fell behind (suspended VM, heavy load): don't burst
                next_t = now + self.interval_s

    def _read_all(self, attribute: bool = True, only_due: bool = False) -> _Snapshot:
        """Read every sensor. Process-tree CPU time is read only at window edges
        (``attribute=True``): walking the process table costs ~1 ms a read, and
        attribution needs nothing between a window's two ends."""
        with self._lock:
            t_mono = self._clock()
            t_unix = time.time()
            failed: set[str] = set()
            notes: list[str] = []  # sensor warnings: kept, not gaps
            gap_notes: list[str] = []
            attempted: set[str] = set()
            for s in self.sensors:
                names = [d.name for d in s.domains()]
                every = float(getattr(s, "min_read_interval_s", 0.0) or 0.0)
                last = self._sensor_read_at.get(id(s))
                if only_due and every > 0 and last is not None and t_mono - last < every:
                    continue
                self._sensor_read_at[id(s)] = t_mono
                attempted.update(names)
                try:
                    got = s.read()
                except Exception as exc:  # noqa: BLE001 - any sensor fault is a gap
                    failed.update(names)
                    msg = f"{s.name} read failed: {exc}"
                    gap_notes.append(msg)
                    self._warn_once(s.name, msg + "; its energy is marked as a gap")
                    continue
                for n in names:
                    if n in got:
                        self._last[n] = got[n]
                    else:
                        failed.add(n)
                try:
                    for w in s.warnings():
                        notes.append(f"{s.name}: {w}")
                        self._warn_once(f"{s.name}:{w}", f"{s.name}: {w}")
                except Exception:  # noqa: BLE001
                    pass
            tree = busy = None
            if self._tree is not None and attribute:
                try:
                    tree = self._tree.cpu_s()
                    busy = machine_busy_cpu_s()
                except Exception as exc:  # noqa: BLE001
                    self._warn_once("attribution", f"process attribution failed: {exc}")
            if failed:
                missing = [n for n in sorted(failed) if not any(n in g for g in gap_notes)]
                if missing:
                    gap_notes.append(f"no reading for {', '.join(missing)}")
                for name in self._window_gaps:
                    self._window_gaps[name].update(gap_notes)
                self.gap_log.append((t_unix, "; ".join(gap_notes)))
            self.notes.extend(n for n in notes if n not in self.notes)
            return _Snapshot(
                t_mono, t_unix, dict(self._last), frozenset(failed), tree, busy, gap_notes,
                frozenset(attempted),
            )

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
            e = b.energy_j - a.energy_j
            rows.append(
                Sample(
                    t_unix_s=snap.t_unix,
                    domain=name,
                    energy_j=e,
                    power_w=e / dt if dt > 0 else 0.0,
                    low_j=b.low_j - a.low_j,
                    high_j=b.high_j - a.high_j,
                    gap=name in snap.failed,
                    start_unix_s=snap.t_unix - dt,
                )
            )
        self.samples.extend(rows)
        if rows and self.on_sample is not None:
            try:
                self.on_sample(rows)
            except Exception as exc:  # noqa: BLE001 - storage faults must not stop sampling
                self._warn_once("on_sample", f"could not record samples: {exc}")
        return rows

    def _result(self, name: str, a: _Snapshot, b: _Snapshot, gaps: set[str]) -> EnergyResult:
        duration = max(0.0, b.t_mono - a.t_mono)
        out: list[DomainResult] = []
        missing: list[str] = []
        for dname, d in self._domains.items():
            ca, cb = a.counters.get(dname), b.counters.get(dname)
            if ca is None or cb is None:
                missing.append(dname)
                continue
            e = cb.energy_j - ca.energy_j
            out.append(
                DomainResult(
                    domain=dname,
                    component=d.component,
                    source=d.source,
                    kind=d.kind,
                    in_total=d.in_total,
                    energy_j=e,
                    low_j=cb.low_j - ca.low_j,
                    high_j=cb.high_j - ca.high_j,
                    avg_power_w=e / duration if duration > 0 else 0.0,
                    gap=dname in a.failed or dname in b.failed or bool(gaps),
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

    def _warn_once(self, key: str, message: str) -> None:
        if key in self._failed_once:
            return
        self._failed_once.add(key)
        warnings.warn(message, WattwiseWarning, stacklevel=3)
