"""What a measurement window gives back: energy per domain, with provenance.

Frozen dataclasses with units in field names; ``to_dict()`` uses the same names
that SQLite, JSON export and the CLI's ``--json`` use.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

from wattwise._finite import finite_float, told_apart
from wattwise.sensors.base import Kind
from wattwise.sensors.nvml_share import GpuShare


def combined_kind(kinds: Iterable[str]) -> str:
    """One kind for figures of several kinds: the shared one, ``mixed``, or ``none``."""
    distinct = set(kinds)
    if not distinct:
        return "none"
    return distinct.pop() if len(distinct) == 1 else "mixed"


@dataclass(frozen=True)
class DomainResult:
    """Energy of one domain over a window, and where it came from."""

    domain: str
    component: str
    source: str
    kind: Kind
    in_total: bool
    energy_j: float
    low_j: float
    high_j: float
    avg_power_w: float
    gap: bool = False


@dataclass(frozen=True)
class Attribution:
    """The share of CPU energy that belongs to one process tree.

    On a shared machine a CPU counter (or model) sees every process. Like Kepler
    and Scaphandre, wattwise splits CPU energy by CPU time: the tree's CPU
    seconds over the machine's busy CPU seconds in the same window. The rest is
    reported as ``unattributed_cpu_energy_j``, never dropped.
    """

    pid: int
    tree_cpu_s: float
    machine_busy_cpu_s: float
    share: float
    cpu_energy_j: float
    attributed_cpu_energy_j: float
    unattributed_cpu_energy_j: float
    method: str = "cpu-time share of the machine's busy CPU time"


@dataclass(frozen=True)
class EnergyResult:
    """The energy one window used: per domain, totals, kind and gaps.

    ``attribution`` is the measured process tree's share of CPU energy (by CPU
    time). ``gpu_attribution`` is, per GPU, the share of its energy attributable
    to the measured process tree, from NVML's per-process SM utilisation
    (``nvmlDeviceGetProcessUtilization``); a GPU's ``share`` is unknown
    (``None``, ``null`` in JSON, with a ``note`` saying why) when NVML gives no
    samples for the window. Empty when no process tree was measured or no GPU
    reports per-process utilisation. Both shares sit inside the totals; they
    add nothing to them.
    """

    name: str
    start_unix_s: float
    end_unix_s: float
    duration_s: float
    domains: tuple[DomainResult, ...]
    attribution: Attribution | None = None
    gaps: tuple[str, ...] = field(default_factory=tuple)
    gpu_attribution: tuple[GpuShare, ...] = ()

    @property
    def energy_j(self) -> float:
        """Total over domains counted in totals (no parent counted with its children)."""
        return sum(d.energy_j for d in self.domains if d.in_total)

    @property
    def low_j(self) -> float:
        return sum(d.low_j for d in self.domains if d.in_total)

    @property
    def high_j(self) -> float:
        return sum(d.high_j for d in self.domains if d.in_total)

    @property
    def avg_power_w(self) -> float:
        return self.energy_j / self.duration_s if self.duration_s > 0 else 0.0

    @property
    def kind(self) -> str:
        """``measured``, ``estimated``, ``mixed``, or ``none`` if nothing was read."""
        return combined_kind(d.kind for d in self.domains if d.in_total)

    def by_component(self) -> dict[str, float]:
        """Energy per component (cpu, dram, gpu, memory, psys) in joules."""
        out: dict[str, float] = {}
        for d in self.domains:
            if d.in_total:
                out[d.component] = out.get(d.component, 0.0) + d.energy_j
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "start_unix_s": self.start_unix_s,
            "end_unix_s": self.end_unix_s,
            "duration_s": self.duration_s,
            "energy_j": self.energy_j,
            "low_j": self.low_j,
            "high_j": self.high_j,
            "avg_power_w": self.avg_power_w,
            "kind": self.kind,
            "domains": [asdict(d) for d in self.domains],
            "attribution": asdict(self.attribution) if self.attribution else None,
            "gaps": list(self.gaps),
            "gpu_attribution": [g.to_dict() for g in self.gpu_attribution],
        }

    def __str__(self) -> str:
        lines = [
            f"{self.name}: {fmt_energy(self.energy_j, self.low_j, self.high_j)} "
            f"in {fmt_seconds(self.duration_s)}, avg {fmt_watts(self.avg_power_w)} ({self.kind})"
        ]
        for d in self.domains:
            mark = "" if d.in_total else " [inside another domain, not added]"
            gap = " [gap]" if d.gap else ""
            lines.append(
                f"  {d.domain:<22} {fmt_energy(d.energy_j, d.low_j, d.high_j):<28} "
                f"{d.kind}, {d.source}{mark}{gap}"
            )
        if self.attribution:
            a = self.attribution
            mine, cpu, others = fmt_energies(a.attributed_cpu_energy_j, a.cpu_energy_j,
                                             a.unattributed_cpu_energy_j)
            counted = any(d.component == "cpu" and d.in_total for d in self.domains)
            said = f"-> {mine} of the {cpu} of CPU energy in the total ({others} other " \
                "processes')" if counted else "(no CPU domain counted in the total)"
            lines.append(f"  process tree {a.pid}: {a.share:.0%} of busy CPU time {said}")
        for s in self.gpu_attribution:
            lines.append(f"  {_gpu_share_line(s)}")
        for g in self.gaps:
            lines.append(f"  gap: {g}")
        return "\n".join(lines)


def _gpu_share_line(s: GpuShare) -> str:
    if s.share is None:
        line = f"{s.domain}: process tree's share unknown"
    else:
        line = f"{s.domain}: process tree {s.share:.0%} of SM time"
        if s.energy_j is not None and s.attributed_energy_j is not None:
            mine, gpu, others = fmt_energies(s.attributed_energy_j, s.energy_j,
                                             s.energy_j - s.attributed_energy_j)
            line += f" -> {mine} of the GPU's {gpu} ({others} other processes')"
    return f"{line} ({s.note})" if s.note else line


#: The units an energy is written in, largest first, as the dashboard's pages write
#: them: a real figure of millijoules is never "0.0 J (0.0-0.0)" (a 1.7 ms run's 22.4 mJ
#: was); below 1 µJ in J with an exponent ("5e-10 J"), as the pages too; from 3600 J in
#: Wh and kWh (a 2.16 MJ training run was "2160000.0 J" beside the pages' "600 Wh").
_UNITS = ((3.6e6, "kWh"), (3600.0, "Wh"), (1.0, "J"), (1e-3, "mJ"), (1e-6, "µJ"))
#: Units whose one decimal would say too little below 100 of them ("8.5 Wh" of 30.5 kJ).
_COARSE = ("Wh", "kWh")


def fmt_energy(energy_j: float, low_j: float, high_j: float) -> str:
    """``12.3 J`` for exact figures, ``12.3 J (9.1-15.0)`` where a range exists. The
    figure and its range in the one unit the largest of them takes, as the dashboard
    picks it (a magnitude of at least 1 J, 1 mJ or 1 µJ at 3 significant digits, else
    J; from 3600 J, Wh or kWh): ``22.4 mJ (20.6-24.9)``, ``0.945 J (0.873-1.07)`` (it
    was "0.9 J (0.9-1.1)"), ``5e-10 J (4.62e-10-5.64e-10)``, ``8.46 Wh (7.61-9.31)``; one
    decimal where the figure is 1 or more of its unit (below 100 Wh or kWh, 3 significant
    digits), else 3 significant digits, for all three. A range that reads as the figure
    itself, or that is not two finite numbers, is not written; a figure that is no
    finite number is ``-``. A range no run could hold (:func:`range_fault`), or that
    does not hold its figure, is said not usable beside the figure, as the pages say it,
    whatever the figure (callers judge a figure itself first)."""
    if not math.isfinite(energy_j):
        return "-"
    energy_j, low_j, high_j = energy_j + 0.0, low_j + 0.0, high_j + 0.0  # -0.0 is 0
    ranged = math.isfinite(low_j) and math.isfinite(high_j)
    # a range that is the figure itself is no range to judge (and a figure is written
    # through it: judging it again would never end)
    why = range_fault(low_j, high_j, energy_j) or _apart(energy_j, low_j, high_j) \
        if ranged and not low_j == high_j == energy_j else None
    if why:  # as the pages say it: the figure, and its range not usable
        return (f"{fmt_energy(energy_j, energy_j, energy_j)} (range not usable: {why}: "
                "a damaged record)")
    top = float(f"{max([abs(energy_j), *((abs(low_j), abs(high_j)) if ranged else ())]):.3g}")
    scale, unit = _unit(top)
    x = energy_j / scale
    whole = (top == 0 or top >= 1e-6) and (x == 0 or round(abs(x), 1) >= 1)
    e, lo, hi = (_in_unit(v / scale, whole, unit, top / scale)
                 for v in (energy_j, low_j, high_j))
    return f"{e} {unit}" if not ranged or e == lo == hi else f"{e} {unit} ({lo}-{hi})"


def fmt_energies(*values: Any, unit_of: float | None = None) -> tuple[str, ...]:
    """Energies read side by side (a step's against its run's total, a share beside its
    whole), each as :func:`fmt_joules` writes it but all in the one unit the largest
    takes, and two that differ never alike: "1 Wh" against "0.9998 Wh", where each alone
    read "1.00 Wh" (3600 J and 3599.4 J), and never "1.03 Wh" beside "3587.4 J". Those
    that read alike get more significant digits until they differ, as ``told_apart``
    gives them; ``-`` for a value that is no finite number. ``unit_of``: a figure whose
    unit they take instead (a range's bounds beside it, in a note on it)."""
    nums = [None if v is None else v + 0.0 for v in map(finite_float, values)]  # -0.0 is 0
    top = float(f"{max((abs(v) for v in nums if v is not None), default=0.0):.3g}") \
        if unit_of is None else float(f"{abs(unit_of):.3g}")
    scale, unit = _unit(top)
    texts = [None if v is None else _in_unit(v / scale, top == 0 or top >= 1e-6, unit,
                                             top / scale) for v in nums]
    for digits in (*range(4, 18), None):
        alike = {i for i, a in enumerate(nums) for j, b in enumerate(nums)
                 if a is not None and b is not None and a != b and texts[i] == texts[j]}
        if not alike:
            break
        for i in alike:
            v = nums[i] / scale  # type: ignore[operator]
            texts[i] = repr(v) if digits is None else f"{v:.{digits}g}"
    return tuple("-" if t is None else f"{t} {unit}" for t in texts)


def _unit(top: float) -> tuple[float, str]:
    # the scale and unit a magnitude (at 3 significant digits) is written in
    return (1.0, "J") if top == 0 else next(((s, u) for s, u in _UNITS if top >= s), (1.0, "J"))


def _in_unit(x: float, whole: bool, unit: str, top: float) -> str:
    # one value already in its unit, beside a largest of ``top`` of it: 3 significant
    # digits below 100 Wh or kWh ("8.46 Wh (7.61-9.31)"), else as ``_written``
    return f"{x:#.3g}" if unit in _COARSE and top < 99.95 else _written(x, whole)


def range_fault(low_j: float, high_j: float, energy_j: float | None = None) -> str | None:
    """What is wrong with an energy range no run could hold (a negative low, a high past
    ``MAX_STORED_ENERGY_J``), in the words every output gives, or None: it is not
    written as a reading, nor are the emissions priced from it. A negative low is in the
    unit it shares with its figure (``energy_j``) and high, as the pages write it."""
    from wattwise.carbon.accounting import MAX_STORED_ENERGY_J

    if low_j < 0:  # in its figure's unit (one past what a run may hold: in its own)
        near = energy_j is not None and max(abs(low_j), abs(energy_j)) <= MAX_STORED_ENERGY_J
        return f"its low is negative ({fmt_energies(low_j, unit_of=energy_j if near else None)[0]})"
    for name, bound in (("high", high_j), ("low", low_j)):  # a low past it, above its high
        if bound > MAX_STORED_ENERGY_J:  # in the digits that tell it from the most, as the
            # pages write it (a high of 1e300 J was written in 301 digits)
            return (f"its {name} is implausibly large ({told_apart(bound, MAX_STORED_ENERGY_J)[0]}"
                    f" J, more than {MAX_STORED_ENERGY_J:g} J)")
    return None


def _apart(energy_j: float, low_j: float, high_j: float) -> str | None:
    """Why a range does not hold its figure (beyond the rounding of a record's figures,
    1e-6 of the largest), or None: a figure of -2e+15 J was written "(3e-05-4e-05)"."""
    def slack(a: float) -> float:  # each bound's rounding and the figure's (as stored)
        return 1e-6 * max(abs(a), abs(energy_j), 1e-9)

    if low_j - slack(low_j) <= energy_j <= high_j + slack(high_j):
        return None
    if fmt_joules(energy_j) in (fmt_joules(low_j), fmt_joules(high_j)):  # read alike,
        # rounded: all three in one unit, in as many digits as tell them apart
        figure, low, high = fmt_energies(energy_j, low_j, high_j, unit_of=energy_j)
        return f"it does not hold its figure ({figure}; range {low} to {high})"
    from wattwise.carbon.accounting import MAX_STORED_ENERGY_J

    # in the figure's unit, as the figure is written beside it (one past what a run may
    # hold: the unit they share)
    low, high = fmt_energies(low_j, high_j, unit_of=energy_j if abs(energy_j) <=
                             MAX_STORED_ENERGY_J else None)
    return f"it does not hold its figure ({low} to {high})"


def _written(x: float, whole: bool) -> str:
    # A figure of 1 or more of its unit (``whole``) to one decimal, with a range end under
    # 1 to 3 significant digits (a low of 0.00012 J was "0.0"); a figure under 1 with its
    # range to 3 significant digits (0.945 J (0.873-1.07), never "(0.873-1.1)").
    return f"{x:.1f}" if whole and (x == 0 or round(abs(x), 1) >= 1) else f"{x:.3g}"


def fmt_joules(value: Any) -> str:
    """One exact energy as :func:`fmt_energy` writes it (``6.0 mJ``, ``12.3 J``), ``-``
    where it is not a finite number."""
    v = finite_float(value)
    return "-" if v is None else fmt_energy(v, v, v)


def fmt_seconds(seconds: Any) -> str:
    """A duration: ``1.70 ms`` under a tenth of a second (a decorated function's run, a
    window around one batch: "0.00 s" said nothing), else ``12.34 s``; ``-`` where it
    is not a finite number."""
    secs = finite_float(seconds)
    if secs is None:
        return "-"
    return f"{secs * 1000.0:.2f} ms" if abs(secs) < 0.1 else f"{secs:.2f} s"


def fmt_watts(watts: Any) -> str:
    """An average power: ``12.34 W``, under 0.1 W to 3 significant digits (a run of
    5.45 µW was "0.00 W"), in watts as the dashboard writes it (``5.45e-06 W``); ``-``
    where it is not a finite number."""
    w = finite_float(watts)
    if w is None:
        return "-"
    return f"{w:.2f} W" if w == 0 or abs(w) >= 0.1 else f"{w:.3g} W"
