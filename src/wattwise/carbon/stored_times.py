"""What every output says of a run's stored end and last heartbeat where they are not
usable (``records.queries.end_fault``, ``heartbeat_fault``): what the run is read to end
at instead. Apart from ``carbon.sample_energy``, which says where its samples lie."""

from __future__ import annotations

from typing import Any

from wattwise.carbon.accounting import real_or_none
from wattwise.records.judged_power import MAX_DURATION_S

#: Why a run measured to its samples has no span: none lies where a sample of it may
#: (from its start to ``MAX_DURATION_S`` after it; one stamped 1e300 is a damaged row).
NO_PLAUSIBLE_SAMPLE = f"no sample of it lies within {MAX_DURATION_S:g} s of its start"


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


def end_notes(record: Any) -> list[str]:
    """The note on run ``record``'s stored end where it is not usable
    (``records.queries.end_fault``: not a number, before the run's start, implausibly far
    after it): the run reads as one without an end, to its last heartbeat (which the
    recorder moves to the end as it closes the run) where that is usable, else
    :func:`heartbeat_notes` says what takes its place; [] else."""
    why = getattr(record, "end_fault", None)
    if not why:
        return []
    then = ("the run is taken to end at its last heartbeat"
            if getattr(record, "heartbeat_fault", None) is None
            else "the run is read as one without an end")
    return [f"the stored end of the run is not usable: {why}: a damaged record; {then}"]


def stored_time_notes(record: Any) -> list[str]:
    """:func:`end_notes` and :func:`heartbeat_notes`: the run's stored end and last
    heartbeat where they are not usable, in that order."""
    return end_notes(record) + heartbeat_notes(record)
