"""The CPU frequency governor and limits the OS exposes, read only.

On Linux, cpufreq puts each CPU's policy under
``/sys/devices/system/cpu/cpu*/cpufreq``: the governor
(``scaling_governor``), the limits it works within (``scaling_min_freq``,
``scaling_max_freq``, in kHz), what the hardware allows
(``cpuinfo_min_freq``, ``cpuinfo_max_freq``) and, under intel_pstate or
amd_pstate in active mode, the energy/performance preference
(``energy_performance_preference``). The p-state drivers add their mode in
``intel_pstate/status`` or ``amd_pstate/status``.

These are the CPU's power-management knobs, the counterpart of an NVIDIA
power limit. wattwise only reads them: changing them affects every process
on the host and needs root. Many virtual machines expose no cpufreq at all
(the host sets the clocks); that is said, not treated as an error.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CPU_ROOT = "/sys/devices/system/cpu"

#: Files of one cpufreq policy that are read, and the field each fills.
_POLICY_FILES = {
    "scaling_driver": "driver",
    "scaling_governor": "governor",
    "scaling_min_freq": "min_khz",
    "scaling_max_freq": "max_khz",
    "cpuinfo_min_freq": "hw_min_khz",
    "cpuinfo_max_freq": "hw_max_khz",
    "energy_performance_preference": "epp",
    "scaling_available_governors": "available_governors",
}
_KHZ = ("min_khz", "max_khz", "hw_min_khz", "hw_max_khz")
_PSTATE_FILES = ("status", "no_turbo", "min_perf_pct", "max_perf_pct")


@dataclass(frozen=True)
class CpuFreqPolicy:
    """One set of cpufreq values and the CPUs that share it; None where a file is absent."""

    cpus: tuple[int, ...]
    driver: str | None = None
    governor: str | None = None
    min_khz: int | None = None
    max_khz: int | None = None
    hw_min_khz: int | None = None
    hw_max_khz: int | None = None
    epp: str | None = None
    available_governors: str | None = None

    @property
    def capped(self) -> bool:
        """Whether the governor may not reach the hardware's top frequency."""
        if self.max_khz is None or self.hw_max_khz is None:
            return False
        return self.max_khz < self.hw_max_khz

    def label(self) -> str:
        def mhz(khz: int | None) -> str:
            return "?" if khz is None else f"{khz / 1000:g}"

        parts = [f"governor {self.governor or '?'}"]
        if self.driver:
            parts.append(f"driver {self.driver}")
        parts.append(f"limits {mhz(self.min_khz)}-{mhz(self.max_khz)} MHz of "
                     f"{mhz(self.hw_min_khz)}-{mhz(self.hw_max_khz)} MHz")
        if self.epp:
            parts.append(f"energy_performance_preference {self.epp}")
        return ", ".join(parts)

    def to_dict(self) -> dict[str, Any]:
        return {"cpus": list(self.cpus), "driver": self.driver, "governor": self.governor,
                "min_khz": self.min_khz, "max_khz": self.max_khz,
                "hw_min_khz": self.hw_min_khz, "hw_max_khz": self.hw_max_khz,
                "energy_performance_preference": self.epp,
                "available_governors": self.available_governors, "capped": self.capped}


@dataclass(frozen=True)
class CpuFreq:
    """What cpufreq shows on this host, or why it shows nothing (``reason``)."""

    root: str
    policies: tuple[CpuFreqPolicy, ...] = ()
    pstate: dict[str, dict[str, str]] = field(default_factory=dict)
    reason: str | None = None

    @property
    def available(self) -> bool:
        return bool(self.policies)

    def lines(self) -> list[str]:
        """One line per policy (and per p-state driver), or the one line saying why none."""
        if not self.available:
            return [f"cpu frequency: not exposed ({self.reason})"]
        out = [f"cpu frequency (read from {self.root}, not changed): CPUs "
               f"{_ranges(p.cpus)}: {p.label()}" for p in self.policies]
        for name, values in self.pstate.items():
            out.append(f"cpu frequency: {name} " + ", ".join(f"{k} {v}" for k, v in
                                                              values.items()))
        return out

    def to_dict(self) -> dict[str, Any]:
        return {"available": self.available, "root": self.root, "reason": self.reason,
                "kind": "read from sysfs", "policies": [p.to_dict() for p in self.policies],
                "pstate": self.pstate}


def _read(path: Path) -> str | None:
    try:
        return path.read_text().strip()
    except (OSError, UnicodeDecodeError):
        return None


def _policy(folder: Path) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for name, key in _POLICY_FILES.items():
        text = _read(folder / name)
        if text is None or text == "":
            continue
        if key in _KHZ:
            values[key] = int(text) if text.isdigit() else None
        else:
            values[key] = text
    return values


def _ranges(cpus: tuple[int, ...]) -> str:
    """``0-3,6`` for CPUs 0, 1, 2, 3 and 6."""
    out: list[str] = []
    start = prev = cpus[0]
    for c in (*cpus[1:], None):
        if c is not None and c == prev + 1:
            prev = c
            continue
        out.append(str(start) if start == prev else f"{start}-{prev}")
        if c is not None:
            start = prev = c
    return ",".join(out)


def read_cpufreq(root: str | os.PathLike[str] = CPU_ROOT) -> CpuFreq:
    """Read every CPU's cpufreq policy under ``root``; CPUs with equal values are grouped.

    Reads only. Without any ``cpu*/cpufreq`` folder the result says why in
    ``reason`` (no cpufreq driver: usual in a virtual machine).
    """
    base = Path(root)
    groups: dict[tuple[tuple[str, Any], ...], list[int]] = {}
    try:
        entries = sorted(base.iterdir()) if base.is_dir() else []
    except OSError:
        entries = []
    for entry in entries:
        m = re.fullmatch(r"cpu(\d+)", entry.name)
        if m is None or not (entry / "cpufreq").is_dir():
            continue
        values = _policy(entry / "cpufreq")
        if values:
            groups.setdefault(tuple(sorted(values.items())), []).append(int(m.group(1)))
    pstate: dict[str, dict[str, str]] = {}
    for driver in ("intel_pstate", "amd_pstate"):
        found = {f: v for f in _PSTATE_FILES if (v := _read(base / driver / f)) is not None}
        if found:
            pstate[driver] = found
    policies = tuple(sorted((CpuFreqPolicy(tuple(sorted(cpus)), **dict(key))
                             for key, cpus in groups.items()), key=lambda p: p.cpus))
    reason = None
    if not policies:
        where = f"no {base}/cpu*/cpufreq"
        reason = (f"{where}: the OS has no cpufreq driver for these CPUs, as in many virtual "
                  "machines, where the host sets the clocks; nothing to read or tune here")
    return CpuFreq(str(base), policies, pstate, reason)
