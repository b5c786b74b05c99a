"""CPU time of a process tree and of the whole machine, for attribution."""

from __future__ import annotations

from typing import Any

import psutil

#: ``psutil.cpu_times`` fields that count as busy. iowait is waiting, steal is
#: time the hypervisor gave to other guests, and guest time is already inside
#: user on Linux. The model sensor's utilisation uses the same definition.
BUSY_FIELDS = ("user", "nice", "system", "irq", "softirq")


def busy_s(times: Any) -> float:
    """Busy CPU-seconds in a ``psutil.cpu_times()`` result (fields a platform lacks count 0)."""
    return sum(float(getattr(times, f, 0.0) or 0.0) for f in BUSY_FIELDS)


def machine_busy_cpu_s() -> float:
    """CPU-seconds the machine spent busy (all CPUs), i.e. not idle nor waiting on I/O."""
    return busy_s(psutil.cpu_times())


class ProcessTree:
    """CPU seconds used by a process and all its descendants.

    Counts each live member's own time plus the time of children it has already
    reaped (``children_user``/``children_system``), so a short-lived
    subprocess is still counted once it has been waited for. With
    ``include_root=False`` the root's own time is left out: that is how
    ``wattwise run`` counts the command it launched but not itself.
    """

    def __init__(self, pid: int, include_root: bool = True) -> None:
        self.pid = pid
        self.include_root = include_root
        self._root = psutil.Process(pid)
        self._last = 0.0

    def cpu_s(self) -> float:
        """Cumulative CPU seconds; never decreases (a vanished orphan keeps its share)."""
        total = 0.0
        try:
            t = self._root.cpu_times()
            total += t.children_user + t.children_system
            if self.include_root:
                total += t.user + t.system
            members = self._root.children(recursive=True)
        except psutil.Error:
            return self._last
        for p in members:
            try:
                c = p.cpu_times()
            except psutil.Error:
                continue
            total += c.user + c.system + c.children_user + c.children_system
        self._last = max(self._last, total)
        return self._last
