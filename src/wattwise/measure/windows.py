"""A meter's windows: the reading at each edge, what failed in between, and the result.

A window is just a pair of readings (``Snapshot``), so windows may nest and overlap;
what it used is the counters' difference (``window_result``). A domain that failed at
any read while the window was open is marked as a gap in it (``OpenWindows.mark``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from wattwise.errors import BadInput
from wattwise.measure.results import Attribution, DomainResult, EnergyResult
from wattwise.sensors.base import Counter, Domain


@dataclass
class Snapshot:
    """Every sensor's last good counter at one moment, and what failed in that read."""

    t_mono: float
    t_unix: float
    counters: dict[str, Counter]
    failed: frozenset[str]
    tree_cpu_s: float | None
    busy_cpu_s: float | None
    gap_notes: list[str] = field(default_factory=list)
    #: domains whose sensor was read (or failed) in this snapshot; others carry old values
    read: frozenset[str] = frozenset()


class OpenWindows:
    """The windows open on a meter, by name: the reading at the start and the gaps since.

    ``mark`` runs under the meter's lock, and so do ``open`` and ``close`` at the window's
    edges: a window opened or closed while the sampling thread marks a failed read would
    change the dicts ``mark`` walks.
    """

    def __init__(self) -> None:
        self._start: dict[str, Snapshot] = {}
        self._gaps: dict[str, set[str]] = {}
        #: per open window: the domains that failed at some read inside it
        self._failed: dict[str, set[str]] = {}

    def __contains__(self, name: object) -> bool:
        return name in self._start

    def check_new(self, name: str) -> None:
        if name in self._start:
            raise BadInput(f"window {name!r} is already open")

    def check_open(self, name: str) -> None:
        if name not in self._start:
            shown = sorted(n for n in self._start if not n.startswith("\0"))  # not wattwise's own
            raise BadInput(f"window {name!r} was never begun (open: {shown})")

    def open(self, name: str, snap: Snapshot) -> None:
        self._start[name] = snap
        self._gaps[name] = set()
        self._failed[name] = set()

    def close(self, name: str) -> tuple[Snapshot, set[str], set[str]]:
        """The window's start reading, its gap notes and the domains that failed in it."""
        start = self._start.pop(name)
        return start, self._gaps.pop(name, set()), self._failed.pop(name, set())

    def mark(self, failed: set[str], gap_notes: list[str]) -> None:
        """A read inside every open window failed for ``failed``."""
        for notes in self._gaps.values():
            notes.update(gap_notes)
        for domains in self._failed.values():
            domains.update(failed)


def delta(a: float, b: float) -> float:
    """Energy between two checked counters: finite and >= 0 (rounding can't make it less)."""
    d = b - a
    return d if math.isfinite(d) and d > 0 else 0.0


def window_result(
    name: str,
    domains: dict[str, Domain],
    a: Snapshot,
    b: Snapshot,
    gaps: set[str],
    failed: set[str],
    pid: int | None,
) -> EnergyResult:
    """What window ``name`` used from ``a`` to ``b``. ``failed``: domains that failed at a
    read inside the window; only they are gaps. ``pid``: the tree attributed, if any."""
    duration = max(0.0, b.t_mono - a.t_mono)
    out: list[DomainResult] = []
    missing: list[str] = []
    for dname, d in domains.items():
        ca, cb = a.counters.get(dname), b.counters.get(dname)
        if ca is None or cb is None:
            missing.append(dname)
            continue
        e = delta(ca.energy_j, cb.energy_j)
        out.append(
            DomainResult(
                domain=dname,
                component=d.component,
                source=d.source,
                kind=d.kind,
                in_total=d.in_total,
                energy_j=e,
                low_j=delta(ca.low_j, cb.low_j),
                high_j=delta(ca.high_j, cb.high_j),
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
        attribution=attribution(pid, a, b, out),
        gaps=tuple(all_gaps),
    )


def attribution(
    pid: int | None, a: Snapshot, b: Snapshot, domains: list[DomainResult]
) -> Attribution | None:
    """The tree's share of the CPU energy, by its share of the machine's busy CPU time."""
    if pid is None or None in (a.tree_cpu_s, b.tree_cpu_s, a.busy_cpu_s, b.busy_cpu_s):
        return None
    tree = max(0.0, b.tree_cpu_s - a.tree_cpu_s)  # type: ignore[operator]
    busy = max(0.0, b.busy_cpu_s - a.busy_cpu_s)  # type: ignore[operator]
    # The two clocks are sampled a few µs apart; a tree can't use more than the machine.
    busy = max(busy, tree)
    share = tree / busy if busy > 0 else 0.0
    cpu = sum(d.energy_j for d in domains if d.in_total and d.component == "cpu")
    return Attribution(
        pid=pid,
        tree_cpu_s=tree,
        machine_busy_cpu_s=busy,
        share=share,
        cpu_energy_j=cpu,
        attributed_cpu_energy_j=cpu * share,
        unattributed_cpu_energy_j=cpu * (1.0 - share),
    )
