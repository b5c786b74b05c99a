"""The CPU cells of a CodeCarbon ``emissions.csv`` row (``records.export_codecarbon``):
the host's logical CPU count and the machine's CPU use over the run, each judged as
the run's attribution is (``records.stored_attribution``), with why a cell is empty
and what a capped one held."""

from __future__ import annotations

from typing import NamedTuple

from wattwise._finite import finite_float
from wattwise.records.store import RunInfo
from wattwise.records.stored_attribution import (
    TICKS_S,
    cpus_said,
    judged_attribution,
    record_cpus,
)


class CpuCells(NamedTuple):
    """``cpu_count`` and ``cpu_utilization_percent``; ``unknown`` as the export lists
    why cells are empty; ``note`` where the percentage written is not the one its
    figures give (capped at CodeCarbon's 100)."""

    cpus: int | None
    percent: float | None
    unknown: list[tuple[tuple[str, ...], str]]
    note: str | None


def cpu_cells(record: RunInfo, duration_s: float | None) -> CpuCells:
    """CodeCarbon's ``cpu_count`` and ``cpu_utilization_percent`` of a run.

    CodeCarbon averages ``psutil.cpu_percent()`` (every CPU of the machine, 0-100) over
    its measurements; the same share here is the busy CPU-seconds recorded with the
    run's attribution over its logical CPUs times its duration. CPU times count in
    clock ticks, read at each end of the run, so a short run's busy time may pass what
    its CPUs could do by up to ``TICKS_S`` per CPU: that share is written as 100, and
    ``note`` says what it was. A damaged CPU count is not written (nor used)."""
    summary = record.summary if isinstance(record.summary, dict) else {}
    cpus, count_fault = record_cpus(record)
    unknown: list[tuple[tuple[str, ...], str]] = []
    if count_fault is not None:
        unknown.append((("cpu_count",), count_fault))
    att = judged_attribution(summary.get("attribution"), summary, cpus, duration_s)
    busy = finite_float(att.get("machine_busy_cpu_s")) if isinstance(att, dict) else None
    why = None
    if busy is None:
        why = ((isinstance(att, dict) and att.get("time_note")) or _no_busy_time(record))
    elif cpus is None:
        why = count_fault
    elif not duration_s:
        why = "the run's duration was not recorded"
    if why is not None:
        return CpuCells(cpus, None, [*unknown, (("cpu_utilization_percent",), why)], None)
    assert busy is not None and cpus is not None and duration_s
    percent = max(0.0, busy / (cpus * duration_s) * 100.0)
    if percent <= 100.0:
        return CpuCells(cpus, percent, unknown, None)
    return CpuCells(cpus, 100.0, unknown, (
        f"CodeCarbon column cpu_utilization_percent is 100, not the {percent:.4g} % its "
        f"figures give ({busy:g} busy CPU-s over {cpus_said(cpus)} for {duration_s:.6g} s): "
        f"CPU times count in clock ticks, read at each end of the run, so a short run's "
        f"busy time may pass what its CPUs could do by up to {TICKS_S:g} s per CPU"))


def _no_busy_time(record: RunInfo) -> str:
    """Why a run holds no busy CPU time: its summary, which holds it, is not stored (a
    run lost before its end) or cannot be read, or it measured no process tree."""
    from wattwise.records.stored_json import unreadable_said

    unread = unreadable_said(record, "summary")
    if unread is not None:
        return unread
    if not isinstance(record.summary, dict):
        return ("the run has no summary, which holds the busy CPU time (it ended before "
                "storing one)")
    return "no busy CPU time was recorded with the run (it measured no process tree)"
