"""Estimated energy for machines without counters: CPU utilisation times a published power model.

VMs, containers and many laptops expose no RAPL. This sensor integrates

    cpu W    = (idle + util x (max - idle)) x CPUs     (per-CPU watts: hardware.cpus)
    memory W = W-per-GB x GB                           (GB = 1e9 bytes: hardware.memory)

between successive reads, so everything above sees cumulative counters. The
low and high counters integrate the low and high ends of every coefficient,
so a figure is always reported with its range and its inputs (``describe()``).

Choices, and why:

- Utilisation is system-wide (``psutil.cpu_times`` deltas): busy = user + nice
  + system + irq + softirq. ``iowait`` is idle (the CPU waits, it does not
  compute). ``steal`` is time the hypervisor gave our vCPU's core to someone
  else: it stays in the denominator but not in busy, so it is charged at idle
  power only. ``guest``/``guest_nice`` are already inside user/nice on Linux
  and are not added again.
- In a container with a cgroup v2 CPU quota the CPU count is the quota and the
  busy time is the cgroup's own ``cpu.stat`` ``usage_usec``, because /proc/stat
  there describes the whole host.
- Memory counts *installed* (or cgroup-limited) GB, not used GB: DRAM draws
  refresh and background power for all of its capacity whether or not pages
  hold data, and in a VM the whole allocation is reserved for this guest. CCF's
  compute coefficients are whole-server SPECpower figures and already contain
  those servers' memory, so, as CCF does, memory is charged only above that
  amount per CPU (central and low); the high end charges all of it.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import psutil

from wattwise.errors import BadInput
from wattwise.hardware.cpus import (
    CpuInfo,
    PowerCoefficients,
    power_coefficients,
    read_cpu_info,
)
from wattwise.hardware.memory import (
    GB_BYTES,
    GB_UNIT,
    SOURCE_GB_BYTES,
    memory_coefficients_per_gb,
)
from wattwise.measure.proctree import busy_s
from wattwise.sensors.base import Counter, Domain, Sensor

CGROUP_CPU_STAT_PATH = "/sys/fs/cgroup/cpu.stat"
CGROUP_MEMORY_MAX_PATH = "/sys/fs/cgroup/memory.max"
GIB = 1024**3
#: Memory is reported in decimal GB, as the run record's hardware facts are.
GB = GB_BYTES
_IDLE_FIELDS = ("idle", "iowait", "steal")


def _read_cgroup_usage_s(path: str | os.PathLike[str]) -> float | None:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError:
        return None
    for line in text.splitlines():
        key, _, value = line.partition(" ")
        if key == "usage_usec":
            try:
                return int(value) / 1e6
            except ValueError:
                return None
    return None


def _cgroup_memory_limit(path: str | os.PathLike[str]) -> int | None:
    try:
        text = Path(path).read_text(encoding="utf-8").strip()
    except OSError:
        return None
    return int(text) if text.isdigit() else None


def _field(times: Any, name: str) -> float:
    return float(getattr(times, name, 0.0) or 0.0)


class ModelSensor(Sensor):
    """CPU and memory energy estimated from utilisation and published coefficients."""

    name = "model"
    kind = "estimated"

    def __init__(
        self,
        components: Sequence[str] = ("cpu", "memory"),
        cpu_info: CpuInfo | None = None,
        cpu_times: Callable[[], Any] = psutil.cpu_times,
        memory_total: int | None = None,
        clock: Callable[[], float] = time.monotonic,
        coefficients: PowerCoefficients | None = None,
        cgroup_cpu_stat_path: str | os.PathLike[str] = CGROUP_CPU_STAT_PATH,
        cgroup_memory_max_path: str | os.PathLike[str] = CGROUP_MEMORY_MAX_PATH,
    ) -> None:
        comps = tuple(components)
        unknown = [c for c in comps if c not in ("cpu", "memory")]
        if not comps or unknown:
            raise BadInput(
                f"model sensor components must be 'cpu' and/or 'memory', got {list(comps)}"
            )
        self._components = comps
        self._info = cpu_info if cpu_info is not None else read_cpu_info()
        self._coef = coefficients if coefficients is not None else power_coefficients(self._info)
        self._cpu_times = cpu_times
        self._clock = clock
        self._cgroup_stat = cgroup_cpu_stat_path
        self._use_cgroup = (
            self._info.cgroup_cpu_limit is not None
            and _read_cgroup_usage_s(cgroup_cpu_stat_path) is not None
        )
        self._cpus = self._info.usable_cpus
        if memory_total is None:
            memory_total = int(psutil.virtual_memory().total)
            limit = _cgroup_memory_limit(cgroup_memory_max_path)
            self._memory_basis = "installed (psutil.virtual_memory().total)"
            if limit is not None and limit < memory_total:
                memory_total = limit
                self._memory_basis = f"cgroup memory.max ({cgroup_memory_max_path})"
        else:
            self._memory_basis = "given by caller"
        if memory_total < 0:
            raise BadInput(f"memory_total must be >= 0 bytes, got {memory_total}")
        self._memory_bytes = int(memory_total)
        self._memory_gb = memory_total / GB
        # Watts per decimal GB: the sources' W per DIMM GB (GiB), converted (same physics).
        self._mem_w, self._mem_w_lo, self._mem_w_hi, self._mem_source = (
            memory_coefficients_per_gb()
        )
        # CCF's per-CPU watts are whole servers', memory included: when the CPU domain
        # is counted too, memory is charged only above what they hold (CCF's own rule).
        # The high end still charges it all, in case they hold less than estimated.
        # SPECpower servers' memory per CPU is in DIMM GB (GiB): converted to decimal GB.
        per_cpu_gib = self._coef.memory_gb_per_cpu if "cpu" in comps else None
        per_cpu = per_cpu_gib * SOURCE_GB_BYTES / GB if per_cpu_gib else None
        self._memory_in_cpu_gb = min(self._memory_gb, per_cpu * self._cpus) if per_cpu else 0.0
        self._totals = {d: [0.0, 0.0, 0.0] for d in self._domain_names()}
        self._last_util = 0.0
        self._last_t = clock()
        self._last_busy, self._last_total = self._sample()

    # ------------------------------------------------------------------ helpers

    def _domain_names(self) -> list[str]:
        return [f"{c}:model" for c in self._components]

    def _sample(self) -> tuple[float, float]:
        """(busy seconds, total seconds) now; cgroup usage when a quota applies."""
        if self._use_cgroup:
            usage = _read_cgroup_usage_s(self._cgroup_stat)
            if usage is not None:
                return usage, 0.0  # total comes from the wall clock
        times = self._cpu_times()
        busy = busy_s(times)
        total = busy + sum(_field(times, f) for f in _IDLE_FIELDS)
        return busy, total

    def _utilisation(self, busy: float, total: float, dt: float) -> float:
        d_busy = busy - self._last_busy
        d_total = (dt * self._cpus) if self._use_cgroup else (total - self._last_total)
        if d_busy < 0 or d_total < 0 or not math.isfinite(d_busy + d_total):
            self._warn(
                "CPU time counters went backwards (VM migration or counter reset): "
                f"used the previous utilisation {self._last_util:.0%} for {dt:.3f} s"
            )
            return self._last_util
        if d_total == 0:
            return self._last_util
        return min(1.0, max(0.0, d_busy / d_total))  # rounding can give >100 %

    # ---------------------------------------------------------------- interface

    def domains(self) -> list[Domain]:
        out = []
        for comp in self._components:
            src = (
                self._coef.label()
                if comp == "cpu"
                else self._memory_label()
            )
            out.append(Domain(f"{comp}:model", comp, src, "estimated"))
        return out

    def _memory_label(self) -> str:
        inc = self._memory_in_cpu_gb
        charged = self._memory_gb - inc
        label = f"model:memory {self._mem_w:.4g} W/GB x {charged:.2f} GB"
        if inc:
            label += f" ({self._memory_gb:.2f} GB less {inc:.2f} GB in the CPU model)"
        return label + f", {GB_UNIT}"

    def read(self) -> dict[str, Counter]:
        now = self._clock()
        dt = now - self._last_t
        if dt > 0:
            busy, total = self._sample()
            util = self._utilisation(busy, total, dt)
            self._last_util = util
            self._last_busy, self._last_total, self._last_t = busy, total, now
            self._integrate(util, dt)
        elif dt < 0:
            self._warn(f"clock went backwards by {-dt:.3f} s: interval skipped")
            self._last_t = now
            self._last_busy, self._last_total = self._sample()
        return {d: Counter(*vals) for d, vals in self._totals.items()}

    def _integrate(self, util: float, dt: float) -> None:
        c = self._coef
        if "cpu" in self._components:
            n = self._cpus
            watts = (
                c.idle_w + util * (c.max_w - c.idle_w),
                c.idle_w_low + util * (c.max_w_low - c.idle_w_low),
                c.idle_w_high + util * (c.max_w_high - c.idle_w_high),
            )
            acc = self._totals["cpu:model"]
            for i, w in enumerate(watts):
                acc[i] += w * n * dt
        if "memory" in self._components:
            acc = self._totals["memory:model"]
            for i, w in enumerate(self._memory_watts()):
                acc[i] += w * dt

    def _memory_watts(self) -> tuple[float, float, float]:
        """(central, low, high) W of memory beyond what the CPU coefficients hold."""
        charged = self._memory_gb - self._memory_in_cpu_gb
        return (self._mem_w * charged, self._mem_w_lo * charged, self._mem_w_hi * self._memory_gb)

    def power_w(self, util: float) -> dict[str, tuple[float, float, float]]:
        """(central, low, high) watts per domain at a given utilisation, for reports."""
        util = min(1.0, max(0.0, util))
        c, n, out = self._coef, self._cpus, {}
        if "cpu" in self._components:
            out["cpu:model"] = tuple(
                (i + util * (m - i)) * n
                for i, m in (
                    (c.idle_w, c.max_w),
                    (c.idle_w_low, c.max_w_low),
                    (c.idle_w_high, c.max_w_high),
                )
            )
        if "memory" in self._components:
            out["memory:model"] = self._memory_watts()
        return out  # type: ignore[return-value]

    def _overlap_note(self) -> str:
        note = self._coef.memory_overlap_note
        if not note:
            return "the CPU coefficients hold no memory (TDP-based): memory counted in full"
        if self._memory_in_cpu_gb:
            note += (
                f" (SPECpower's GB is a DIMM's, 2**30 bytes: {self._memory_in_cpu_gb:.3g} "
                f"{GB_UNIT} here)"
            )
        return note

    def describe(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "kind": self.kind,
            "cpu": self._info.to_dict(),
            "cpus_counted": self._cpus,
            "cpu_coefficients_w_per_cpu": self._coef.to_dict(),
            "utilisation": (
                f"cgroup cpu.stat usage_usec over {self._cpus:g} CPUs ({self._cgroup_stat})"
                if self._use_cgroup
                else "system-wide psutil.cpu_times deltas; busy = user+nice+system+irq+softirq; "
                "iowait idle; steal charged at idle power"
            ),
            "memory_gb": self._memory_gb,
            "memory_bytes": self._memory_bytes,
            "memory_unit": GB_UNIT,
            "memory_basis": self._memory_basis,
            "memory_gb_in_cpu_coefficients": self._memory_in_cpu_gb,
            "memory_overlap": self._overlap_note(),
            "memory_w_per_gb": {
                "unit": f"W per {GB_UNIT}",
                "central": self._mem_w,
                "low": self._mem_w_lo,
                "high": self._mem_w_hi,
                "sources": self._mem_source,
            },
            "formula": "cpu W = (idle + util x (max - idle)) x CPUs; memory W = W/GB x (GB - GB "
            "already in the CPU coefficients); high end: all GB",
        }


def probe(**kwargs: Any) -> ModelSensor:
    """Build the model sensor; it runs anywhere psutil does, so it never reports unavailable."""
    return ModelSensor(**kwargs)
