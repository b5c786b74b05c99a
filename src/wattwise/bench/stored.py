"""The benchmark results a run-record database keeps, read one way.

``bench``'s rating (its stored peers) and the dashboard's leaderboard rank the same
results. They read them apart before, and ranked different sets: the rating asked for
the run's ``bench`` tag and took a stored ``name`` key of the window's extra for the
window's name, the leaderboard did neither; both read a J/sample stored as text as a
number (``float``) where the study pages call it a damaged record.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

from wattwise._finite import finite_float as _finite
from wattwise.bench.harness import SUMMARY_WINDOW, BenchResult
from wattwise.compress.stored import interval_fault, j_per_sample_fault
from wattwise.records.rows import SHAPE_ERRORS, loads, shown_text

#: Each stored result's window (``harness.SUMMARY_WINDOW``, by the stored column, not a
#: key of its extra): ``(run_id, extra_json, run start, window kind)``, newest run first.
WINDOWS_SQL = (
    "SELECT w.run_id, w.extra_json, r.started_unix_s, w.kind FROM windows w"
    " JOIN runs r ON r.id = w.run_id WHERE w.name = ?"
    " ORDER BY r.started_unix_s DESC, w.id DESC LIMIT ?")

Rows = Callable[[str, Any], list[Any]]


def stored_rows(rows: Rows, limit: int) -> list[Any]:
    """The ``limit`` newest stored results' windows (``WINDOWS_SQL``), read by ``rows``
    (a store's or the dashboard's own read)."""
    return rows(WINDOWS_SQL, (SUMMARY_WINDOW, limit))


def result_of(row: Sequence[Any]) -> BenchResult | None:
    """The result one row of ``stored_rows`` holds, as it is rated and ranked (under the
    task it was stored with: ``rating.as_filed`` files it); None where it is a damaged
    record, which
    no output ranks: its extra holds no result that can be rebuilt (a field missing or
    of another type, a name, kind or source that is not text), its J/sample is none a
    command stores (``compress.stored.j_per_sample_fault``, on the stored value: text is
    not a number) or lies outside its own interval (``interval_fault``), or it says
    measured where its window does not, or the other way round (the kind was changed
    in one place: the run's own figures say which)."""
    run_id, extra, run_started, window_kind = row[0], row[1], row[2], row[3]
    stored = loads(extra, dict) if isinstance(extra, str) else None
    bench = stored.get("bench") if stored is not None else None
    if not isinstance(bench, dict):
        return None
    energy = bench.get("energy_j_per_sample")
    if not isinstance(energy, dict) or j_per_sample_fault(energy.get("mean")) is not None:
        return None
    try:
        r = _cleaned(BenchResult.from_dict(bench), int(run_id), run_started)
    except SHAPE_ERRORS:
        return None
    e = r.energy_j_per_sample
    if interval_fault(e.mean, e.low, e.high) is not None:
        return None
    if (r.kind == "measured") != (window_kind == "measured"):
        return None
    return r


def _cleaned(r: BenchResult, run_id: int, run_started: Any) -> BenchResult:
    """``r`` with its text fields as text (a hostile record may hold anything), the run
    it was stored in, and a start time that is a number (the run's where its own is
    not)."""
    for field in ("name", "kind", "source"):
        if not isinstance(getattr(r, field), str):
            raise TypeError(field)
    machine: Any = r.machine
    if not isinstance(machine, str):
        machine = shown_text(machine) or ""
    return replace(r, task=r.task if isinstance(r.task, str) else None, machine=machine,
                   run_id=run_id,
                   started_unix_s=_finite(r.started_unix_s) or _finite(run_started))

