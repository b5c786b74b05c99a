"""What sensors hand the meter, checked: their domains once, then each read domain by domain.

A sensor wraps outside code (a driver, a vendor library, a model) and can give
back anything. Everything it says passes through here first, so a bad value
becomes a named fault that the meter turns into a gap, never a NaN, a negative
joule or an exception in the user's program.
"""

from __future__ import annotations

import math
import numbers
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import get_args

from wattwise.sensors.base import Counter, Domain, Kind, Sensor

_Triple = tuple[float, float, float]


@dataclass(frozen=True)
class Fault:
    """Something wrong with one read. ``kind`` is short and stable (one warning per
    sensor and kind); ``gap`` is False for faults that only deserve a warning."""

    kind: str
    domains: tuple[str, ...]
    detail: str
    gap: bool = True

    def text(self, sensor: str) -> str:
        return f"{sensor}: {', '.join(self.domains)}: {self.detail}"


def sensor_label(sensor: object) -> str:
    """The sensor's ``name`` for messages, or its class name when that is junk."""
    try:
        name = getattr(sensor, "name", None)
    except Exception:  # noqa: BLE001 - a property may raise
        name = None
    return name if isinstance(name, str) and name else type(sensor).__name__


def short(value: object, limit: int = 60) -> str:
    """``repr`` for a message, cut short; never raises."""
    try:
        text = repr(value)
    except Exception:  # noqa: BLE001
        text = f"<{type(value).__name__}>"
    return text if len(text) <= limit else text[: limit - 3] + "..."


def error_text(exc: BaseException) -> str:
    """``str(exc)`` for a message; never raises, never empty."""
    try:
        text = str(exc)
    except Exception:  # noqa: BLE001 - a broken __str__
        text = ""
    return text or type(exc).__name__


def usable_domains(sensor: Sensor, label: str, taken: set[str]) -> tuple[list[Domain], str | None]:
    """The sensor's domains that can be measured, and a note on what was left out.

    Asked once: the contract says domains are fixed after construction. ``taken``
    holds the names earlier sensors claimed (a name counted twice would double
    count); the names kept here are added to it.
    """
    try:
        given = list(sensor.domains())
    except Exception as exc:  # noqa: BLE001 - outside code
        return [], f"{label}: domains() failed ({error_text(exc)})"
    kept: list[Domain] = []
    dropped: list[str] = []
    for d in given:
        if not _valid_domain(d):
            dropped.append(f"{short(d)} is not a valid Domain")
        elif d.name in taken:
            dropped.append(f"{d.name} is already measured")
        else:
            taken.add(d.name)
            kept.append(d)
    if not dropped:
        return kept, None
    return kept, f"{label}: domains left out: {'; '.join(dropped)}"


def _valid_domain(d: object) -> bool:
    return (
        isinstance(d, Domain)
        and isinstance(d.name, str)
        and bool(d.name)
        and isinstance(d.component, str)
        and isinstance(d.source, str)
        and d.kind in get_args(Kind)
        and isinstance(d.in_total, bool)
    )


class ReadCheck:
    """One sensor's reads, checked against its last good counter per domain.

    A failed domain keeps its last good counter, so windows and samples never
    see a bad value. A counter that goes backwards is a fault (RAPL wraps are
    undone inside its sensor); if the next read goes on from the low value, the
    counter was restarted and is followed from there, the interval in between
    being the gap. A counter that does not move for ``stuck_after_s`` while
    reads succeed is stuck (a hung driver); ``None`` turns that check off.
    """

    def __init__(self, names: list[str], stuck_after_s: float | None) -> None:
        self.names = list(names)
        self.stuck_after_s = stuck_after_s
        self._tracks = {n: _Track() for n in self.names}

    def accept(
        self, got: object, t_mono: float, t_unix: float
    ) -> tuple[dict[str, Counter], list[Fault]]:
        """Good counters of ``got`` (one ``read()``) and the faults found in it."""
        if not isinstance(got, Mapping):
            return {}, [
                Fault(
                    "bad read",
                    tuple(self.names),
                    f"read() returned {type(got).__name__}, not a dict of Counters",
                )
            ]
        good: dict[str, Counter] = {}
        faults: list[Fault] = []
        for n in self.names:
            if n not in got:
                faults.append(Fault("missing", (n,), "missing from the read"))
                continue
            try:
                triple = _as_triple(got[n])
            except _Bad as bad:
                faults.append(Fault(bad.kind, (n,), bad.detail))
                continue
            energy, low, high = triple
            slack = 1e-9 * max(1.0, abs(energy))
            if not low - slack <= energy <= high + slack:
                faults.append(
                    Fault(
                        "range out of order",
                        (n,),
                        f"low {low:g} J, energy {energy:g} J, high {high:g} J are out of "
                        "order; the range of its figures is unreliable",
                        gap=False,
                    )
                )
            try:
                good[n] = self._tracks[n].update(triple, t_mono, t_unix, self.stuck_after_s)
            except _Bad as bad:
                faults.append(Fault(bad.kind, (n,), bad.detail))
        return good, faults


class _Bad(Exception):
    """A value that cannot be used: ``kind`` and ``detail`` become a ``Fault``."""

    def __init__(self, kind: str, detail: str) -> None:
        super().__init__(detail)
        self.kind, self.detail = kind, detail


def _as_triple(value: object) -> _Triple:
    """``(energy, low, high)`` as finite floats; raises ``_Bad`` saying what is wrong."""
    if not isinstance(value, Counter):
        raise _Bad("not a Counter", f"read gave {type(value).__name__}, not a Counter")
    out: list[float] = []
    for field in ("energy_j", "low_j", "high_j"):
        v = getattr(value, field)
        if isinstance(v, bool) or not isinstance(v, numbers.Real):
            raise _Bad("not a number", f"{field} is {type(v).__name__}, not a number")
        try:
            x = float(v)
        except (OverflowError, ValueError, TypeError):
            x = math.nan
        if not math.isfinite(x):
            raise _Bad("not finite", f"{field} is {short(v)}")
        out.append(x)
    return out[0], out[1], out[2]


#: A counter that rises faster than this (over at least 1 s, so that a counter
#: which moves in steps, like NVML's every 100 ms, is never misjudged) is a
#: glitch, not energy: no single domain (a CPU package, a GPU, a node's psys)
#: draws a megawatt.
MAX_PLAUSIBLE_W = 1e6


class _Track:
    """The last good counter of one domain, with what backwards and stuck checks need."""

    def __init__(self) -> None:
        self.last: _Triple | None = None
        self.offset: _Triple = (0.0, 0.0, 0.0)
        #: the value a backwards read gave; a next read above it means a restart
        self.pending: _Triple | None = None
        self.changed_mono = 0.0
        self.changed_unix = 0.0
        self.last_mono = 0.0

    def update(
        self, raw: _Triple, t_mono: float, t_unix: float, stuck_after_s: float | None
    ) -> Counter:
        """The counter to use from a good value; raises ``_Bad`` for backwards or stuck."""
        v = _add(raw, self.offset)
        last = self.last
        if last is None:
            self.last, self.changed_mono, self.changed_unix = v, t_mono, t_unix
            self.last_mono = t_mono
            return Counter(*v)
        allowed = MAX_PLAUSIBLE_W * max(t_mono - self.last_mono, 1.0)
        if v[2] - last[2] > allowed or v[0] - last[0] > allowed:
            raise _Bad(
                "jump",
                f"counter jumped by {v[0] - last[0]:.3g} J, more than any device draws "
                f"({MAX_PLAUSIBLE_W:.0e} W); the reading is left out",
            )
        if not _ge(v, last):
            if self.pending is None or not _ge(v, self.pending):
                self.pending = v
                raise _Bad(
                    "backwards",
                    f"counter went backwards (from {last[0]:g} J to {v[0]:g} J); "
                    "the interval is left out",
                )
            # The counter restarted at the previous read and has counted up since.
            p = self.pending
            step = (last[0] - p[0], last[1] - p[1], last[2] - p[2])
            self.offset = _add(self.offset, step)
            v = _max(_add(v, step), last)
        self.pending = None
        if v == last:
            if stuck_after_s is not None and t_mono - self.changed_mono >= stuck_after_s:
                since = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(self.changed_unix))
                raise _Bad("stuck", f"counter stuck since {since}")
        else:
            self.changed_mono, self.changed_unix = t_mono, t_unix
        self.last, self.last_mono = v, t_mono
        return Counter(*v)


def _add(a: _Triple, b: _Triple) -> _Triple:
    return a[0] + b[0], a[1] + b[1], a[2] + b[2]


def _ge(a: _Triple, b: _Triple) -> bool:
    return a[0] >= b[0] and a[1] >= b[1] and a[2] >= b[2]


def _max(a: _Triple, b: _Triple) -> _Triple:
    return max(a[0], b[0]), max(a[1], b[1]), max(a[2], b[2])
