"""What every output says of a run's stored times that are not usable: its end and last
heartbeat (``records.queries.end_fault``, ``heartbeat_fault``: what the run is read to end
at instead) and its samples' times that are not finite numbers (left out of its timeline).
Apart from ``carbon.sample_energy``, which says where its samples lie."""

from __future__ import annotations

from typing import Any

from wattwise.carbon.accounting import real_or_none
from wattwise.records.judged_power import MAX_DURATION_S

#: Why a run measured to its samples has no span: none lies where a sample of it may
#: (from its start to ``MAX_DURATION_S`` after it; one stamped 1e300 is a damaged row).
NO_PLAUSIBLE_SAMPLE = (f"no sample of it lies from its start to {MAX_DURATION_S:g} s after "
                       "it")

#: Run ?'s samples whose stored time is not a finite number (text, a blob, an infinity).
UNPLACED_SQL = ("SELECT count(*) FROM samples WHERE run_id = ? AND NOT (typeof(t_unix_s)"
                " IN ('integer', 'real') AND abs(t_unix_s) <= 1.7976931348623157e308)")


def unplaced_note(count: int) -> str:
    """The note on samples whose stored time is not a finite number: no output places
    them in time (the timeline leaves them out)."""
    return (f"{count} sample(s) whose stored time is not a finite number were left out of "
            "the timeline (the stored record is read as it is)")


def unplaced_notes(read: Any, run_id: int) -> list[str]:
    """:func:`unplaced_note` of run ``run_id``'s samples (``read(sql, params)`` gives rows):
    their first and last time read through the samples' index (SQLite orders text and
    blobs after every number), and counted one by one only where either is not finite
    (a million samples: about a second); [] where none is."""
    lo, hi = read("SELECT min(t_unix_s), max(t_unix_s) FROM samples WHERE run_id = ?",
                  (run_id,))[0]
    if lo is None or (real_or_none(lo) is not None and real_or_none(hi) is not None):
        return []
    count = int(read(UNPLACED_SQL, (run_id,))[0][0])
    return [unplaced_note(count)] if count else []


def heartbeat_notes(record: Any) -> list[str]:
    """The note on run ``record``'s stored last heartbeat where it is not usable
    (``records.queries.heartbeat_fault``: none, not a number, before the run's start)
    and the run has no usable end: where its summary gives no duration, its duration is
    then from its start to its last sample (the span its timeline draws,
    ``timeline_end`` taking no end from it), or not known without a sample; [] else."""
    why = getattr(record, "heartbeat_fault", None)
    if not why:
        return []
    from wattwise.records.queries import summary_duration

    duration = real_or_none(getattr(record, "duration_s", None))
    shown = ("" if summary_duration(getattr(record, "summary", None),
                                    getattr(record, "started_unix_s", None)) is not None
             else f"; the run's duration is not known ({NO_PLAUSIBLE_SAMPLE})"
             if duration is None
             else f"; the run's duration ({duration:.4g} s) is from its start to its last"
             " sample")
    return [f"the stored last heartbeat is not usable: {why}: a damaged record{shown}"]


def window_end(record: Any) -> float | None:
    """Where an ended run whose stored end is not usable (or not stored) is taken to end by
    its summary: its measured window's end (``records.judged_stored.measured_window``,
    from no earlier than the run's start), where that is later than its usable last
    heartbeat (or the heartbeat is not usable: a heartbeat stored early would cut a run
    its summary says ran on); None else, and for a run whose end is usable."""
    from wattwise.records.judged_stored import DURATION_SLACK_S, measured_window

    if real_or_none(getattr(record, "ended_unix_s", None)) is not None \
            or getattr(record, "status", None) in ("running", "lost"):
        return None  # a usable end, or a run not ended: no summary's window to take
    start = real_or_none(getattr(record, "started_unix_s", None))
    window = measured_window(getattr(record, "summary", None), start, None)
    if window is None or start is None or window[0] < start - DURATION_SLACK_S:
        return None
    beat = None if getattr(record, "heartbeat_fault", None) \
        else real_or_none(getattr(record, "heartbeat_unix_s", None))
    return window[1] if beat is None or window[1] > beat else None


def end_notes(record: Any) -> list[str]:
    """The note on run ``record``'s stored end where it is not usable
    (``records.queries.end_fault``: not a number, before the run's start, implausibly far
    after it): the run reads as one without an end, to its summary's measured window
    where that ends later (:func:`window_end`), else to its last heartbeat (which the
    recorder moves to the end as it closes the run) where that is usable, else
    :func:`heartbeat_notes` says what takes its place; [] else."""
    why = getattr(record, "end_fault", None)
    if not why:
        return []
    then = ("the run is taken to end where its summary's measured window ends"
            if window_end(record) is not None
            else "the run is taken to end at its last heartbeat"
            if getattr(record, "heartbeat_fault", None) is None
            else "the run is read as one without an end")
    return [f"the stored end of the run is not usable: {why}: a damaged record; {then}"]


def stored_time_notes(record: Any) -> list[str]:
    """:func:`end_notes` and :func:`heartbeat_notes`: the run's stored end and last
    heartbeat where they are not usable, in that order."""
    return end_notes(record) + heartbeat_notes(record)
