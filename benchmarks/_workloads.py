"""Workloads for the overhead benchmark: an idle one and one that keeps one core busy.

The idle workload isolates what a tracker costs by itself; the busy one shows
that cost while the program it measures competes for the interpreter.
"""

from __future__ import annotations

import time


def idle(seconds: float) -> None:
    """Sleep: the process uses no CPU of its own, so any CPU time is the tracker's."""
    time.sleep(seconds)


def busy(seconds: float) -> int:
    """Spin pure-Python arithmetic on one core for ``seconds`` of wall time.

    Returns the loop count so the work cannot be optimised away and so runs
    can be compared (fewer loops in the same time = more interference).
    """
    end = time.perf_counter() + seconds
    n = 0
    x = 0
    while time.perf_counter() < end:
        for i in range(1000):
            x = (x * 31 + i) & 0xFFFF
        n += 1
    return n + (x & 0)


WORKLOADS = {"idle": idle, "busy": busy}
