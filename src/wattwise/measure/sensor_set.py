"""The sensors a meter uses: their domains, their last good counters, and reading them.

Sensor faults never reach the caller: a read that fails, or whose values fail the
checks of ``wattwise.measure.readings``, is turned into notes, warnings to give and
the domains to mark as gaps, and the last good counter stays in ``last``. The same
goes for the rest of a sensor's interface (``domains()``, ``warnings()``,
``describe()``, ``close()``, ``max_safe_interval_s()``): outside code, never trusted.

Not thread-safe on its own: the meter calls ``read`` under its lock.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from wattwise.measure.notices import MAX_WARNINGS_PER_SENSOR, Notices
from wattwise.measure.readings import Fault, ReadCheck, error_text, sensor_label, usable_domains
from wattwise.sensors.base import Counter, Domain, Sensor


@dataclass
class Reading:
    """What one read of the sensors found besides the counters."""

    #: domains whose read failed (gaps)
    failed: set[str] = field(default_factory=set)
    gap_notes: list[str] = field(default_factory=list)
    #: domains whose sensor was read (or failed); the others carry old values
    attempted: set[str] = field(default_factory=set)
    #: warnings to give once the readings are stored
    to_warn: list[str] = field(default_factory=list)


class SensorSet:
    """The given sensors; those with usable domains are read, each with its read check."""

    def __init__(
        self, sensors: Sequence[Sensor], stuck_after_s: float, notices: Notices
    ) -> None:
        self.given = list(sensors)
        self._notices = notices
        self._stuck_after_s = stuck_after_s
        #: the sensors in use, each with its name for messages and its read check
        self.plan: list[tuple[Sensor, str, ReadCheck]] = []
        self.domains: dict[str, Domain] = {}
        #: the last good counter of each domain
        self.last: dict[str, Counter] = {}
        self._read_at: dict[int, float] = {}
        self._warnings_shown: dict[str, int] = {}
        for s in self.given:
            self._add(s)

    def _add(self, s: Sensor) -> None:
        """Take the sensor's domains, once; a sensor with none usable is left out."""
        label = sensor_label(s)
        kept, problem = usable_domains(s, label, set(self.domains))
        if not kept:
            problem = f"{problem or f'{label}: domains() gave none'}; this sensor is not used"
        if problem:
            self._notices.note(problem)
            self._notices.warn_once(f"{id(s)}:domains", problem, stacklevel=4)
        if not kept:
            return
        for d in kept:
            self.domains[d.name] = d
        try:
            stuck_check = bool(getattr(s, "stuck_check", True))
        except Exception:  # noqa: BLE001 - a property may raise
            stuck_check = True
        names = [d.name for d in kept]
        self.plan.append((s, label, ReadCheck(names, self._stuck_after_s if stuck_check else None)))

    def warn_unsafe_interval(self, interval_s: float) -> None:
        """Warn of sensors whose counters may wrap unseen between reads ``interval_s`` apart."""
        for s, label, _ in self.plan:
            try:
                safe = float(s.max_safe_interval_s())  # type: ignore[attr-defined]
            except Exception:  # noqa: BLE001 - optional, and outside code
                continue
            if interval_s > safe:
                self._notices.warn_once(
                    f"{id(s)}:interval",
                    f"{label}: sampling every {interval_s:g} s may miss counter "
                    f"wraps (safe up to {safe:g} s); use a shorter interval",
                    stacklevel=4,
                )

    def info(self) -> list[dict[str, Any]]:
        """Each sensor in use as ``describe()`` plus its domains, for run records.
        A ``describe()`` that fails or gives something not JSON-like is recorded as
        ``describe_error`` instead."""
        out: list[dict[str, Any]] = []
        for s, label, check in self.plan:
            try:
                d = json.loads(json.dumps(s.describe(), default=str))
                if not isinstance(d, dict):
                    raise TypeError(f"returned {type(d).__name__}, not a dict")
            except Exception as exc:  # noqa: BLE001 - outside code
                d = {"name": label, "describe_error": f"{type(exc).__name__}: {exc}"}
            d["domains"] = [self.domains[n].to_dict() for n in check.names]
            out.append(d)
        return out

    def close(self) -> None:
        """Close every given sensor; a failing ``close()`` is one warning."""
        for s in self.given:
            try:
                s.close()
            except Exception as exc:  # noqa: BLE001 - closing must not fail the caller
                label = sensor_label(s)
                self._notices.warn_once(f"{id(s)}:close",
                                        f"{label}: close() failed: {error_text(exc)}",
                                        stacklevel=4)

    def _due(self, s: Sensor, t_mono: float) -> bool:
        """Whether a tick reads ``s`` now (see ``min_read_interval_s``)."""
        last = self._read_at.get(id(s))
        if last is None:
            return True
        try:
            every = float(getattr(s, "min_read_interval_s", 0.0) or 0.0)
        except Exception:  # noqa: BLE001 - junk means "every tick"
            every = 0.0
        return not (every > 0 and t_mono - last < every)

    def read(self, t_mono: float, t_unix: float, only_due: bool = False) -> Reading:
        """Read every sensor (``only_due``: those due) into ``last``; what went wrong."""
        got = Reading()
        notices = self._notices
        for s, label, check in self.plan:
            if only_due:
                if not self._due(s, t_mono):
                    continue
                # only the sampling pace counts: a window edge's read does not put the
                # next sample off (4 s windows back to back left a GPU with none)
                self._read_at[id(s)] = t_mono
            got.attempted.update(check.names)
            for fault in self._read_one(s, check, t_mono, t_unix):
                text = fault.text(label)
                if fault.gap:
                    got.failed.update(fault.domains)
                    got.gap_notes.append(text)
                if notices.once(f"{id(s)}:{fault.kind}:{fault.domains}"):
                    notices.note(text)
                if notices.once(f"{id(s)}:{fault.kind}"):
                    got.to_warn.append(text + ("; marked as a gap" if fault.gap else ""))
            got.to_warn.extend(self._drain_warnings(s, label))
        return got

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
        self.last.update(good)
        return faults

    def _drain_warnings(self, s: Sensor, label: str) -> list[str]:
        """Notes the sensor queued since its last read; the new ones, to warn about."""
        notices = self._notices
        try:
            got = s.warnings()
            texts = [got] if isinstance(got, str) else [str(w) for w in got or ()]
        except Exception as exc:  # noqa: BLE001 - outside code
            text = f"{label}: warnings() failed: {error_text(exc)}"
            if notices.once(f"{id(s)}:warnings"):
                notices.note(text)
                return [text]
            return []
        out = []
        for w in texts:
            text = f"{label}: {w}"
            notices.note(text)
            shown = self._warnings_shown
            n = shown.get(label, 0)
            if n <= MAX_WARNINGS_PER_SENSOR and notices.once(f"{label}:{w}"):
                shown[label] = n + 1
                out.append(text if n < MAX_WARNINGS_PER_SENSOR else
                           f"{label}: more warnings; the rest are in the run's notes only")
        return out
