"""Step marks stored lower than the one before them, or whose energy no run could hold.

A step mark (``Run.step()``) stores the energy since the run's start, so each is at
least the one before it. A mark below (another program's edit, a damaged row) was
printed as it stood: ``show`` gave "the last at step 3: 1000.0 J since the start" after
step 2's 6654.1 J, and the run page drew it, with no word anywhere. A mark whose energy is
negative, past what one run may hold or outside its own range was shown as a reading
("3e+15 J since the start" of a 37.8 µJ run) and passed by the timeline as one."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

from wattwise._finite import finite_float
from wattwise.measure.results import fmt_energies

__all__ = ["above_total_note", "backward_note", "mark_fault", "marked", "numbering_note",
           "placed", "run_span", "step_notes", "stored_step_notes", "unplaced_marks_note",
           "unusable_marks_note"]

#: Rounding a mark may carry (relative) without being called lower.
_ROUNDING = 1e-9


def _more(count: int, one: str, many: str) -> str:
    """How many more marks a note names besides its first: "" for none, else "; 1 more
    {one}" or "; {count} more {many}"."""
    return "" if count < 1 else f"; 1 more {one}" if count == 1 else f"; {count:,} more {many}"


def mark_fault(mark: dict[str, Any]) -> str | None:
    """What is wrong with a stored mark's energy and its range (negative, implausibly
    large, outside its own range, not a number: ``stored_energy.energy_fault``), or None
    where it is usable or holds none."""
    from wattwise.records.stored_energy import energy_fault

    return energy_fault(*(mark.get(k) for k in ("energy_j", "low_j", "high_j")))


#: How far a mark's time may lie outside its run's start and end (the clock's reads).
SPAN_SLACK_S = 1.0

#: A run's start and end as its marks are judged against, with what the end is called
#: ("its end" where not given): :func:`run_span`.
Span = tuple[Any, ...]


def run_span(record: Any) -> Span:
    """A run's start and end as its marks are judged against (:func:`placed`). A run with
    no recorded end (killed between storing its marks and its end) ends, as every output
    gives its length, at its last heartbeat: the recorder moves it to each batch of
    samples, the last of them queued before the marks. Where that is not usable either,
    or lies ahead of the reader's clock, none: its marks are judged against the time they
    are read instead."""
    start = finite_float(getattr(record, "started_unix_s", None))
    end = finite_float(getattr(record, "ended_unix_s", None))
    if end is not None:
        return start, end, "its end"
    beat = None if getattr(record, "heartbeat_fault", None) is not None else \
        finite_float(getattr(record, "heartbeat_unix_s", None))
    if beat is not None and beat > time.time() + SPAN_SLACK_S:  # ahead of the reader's
        beat = None  # clock: no span past now (a day ahead placed a mark 12 h ahead)
    return start, beat, "its last heartbeat"


#: A mark's place among a run's marks where the reader gives none (a mark built by hand).
_NO_PLACE = object()


def _uncounted(step: int, place: Any) -> str | None:
    """Why a mark's step cannot be what ``Run.step()`` stored at its ``place`` among the
    run's marks (each mark counts from 1 to ``MAX_STEPS_PER_MARK`` more steps, and a run
    at most ``MAX_STEPS``), or None."""
    from wattwise.measure.run_steps import MAX_STEPS, MAX_STEPS_PER_MARK
    from wattwise.records.stored_energy import shown_value

    if step > MAX_STEPS:
        return (f"step {step} is more than a run can count (at most {MAX_STEPS:,} steps, "
                "the most its outputs give exactly)")
    if place is _NO_PLACE:
        return None
    if isinstance(place, bool) or not isinstance(place, int) or place < 1:
        return (f"step {step}'s stored mark number is not a whole number from 1 (stored as "
                f"{shown_value(place)})")
    if step < place:
        return (f"step {step} is below its mark number ({place:,}): each mark counts at "
                "least one more step")
    if step > place * MAX_STEPS_PER_MARK:
        return (f"step {step} is more than its mark number ({place:,}) can count: each "
                f"mark counts at most {MAX_STEPS_PER_MARK:.0e} steps")
    return None


def _misplaced(mark: dict[str, Any], span: Span = (None, None)) -> str | None:
    """Why a stored mark cannot be placed, or None."""
    from wattwise.records.stored_energy import shown_value

    step, t = mark.get("step"), mark.get("t_unix_s")
    if isinstance(step, bool) or not isinstance(step, int):
        return f"a step mark's stored step is not an integer (stored as {shown_value(step)})"
    if step < 0:
        return f"a step mark's stored step is negative ({step})"
    counted = _uncounted(step, mark.get("mark", _NO_PLACE))
    if counted is not None:
        return counted
    at = finite_float(t)
    if at is None:
        return f"step {step}'s stored time is not usable (stored as {shown_value(t)})"
    start, end = span[0], span[1]
    if start is not None and at < start - SPAN_SLACK_S:  # (a start ahead of the clock too)
        return f"step {step}'s stored time is outside the run ({start - at:.4g} s before its start)"
    if start is not None and end is None and at > time.time() + SPAN_SLACK_S:
        # no end nor heartbeat: none after now (a run's span is asked for: ``run_span``);
        # said from its start, so every output read moments apart says the same
        return (f"step {step}'s stored time is outside the run ({at - start:.4g} s after its "
                "start, later than the time it is read)")
    if end is not None and at > end + SPAN_SLACK_S:
        return (f"step {step}'s stored time is outside the run ({at - end:.4g} s after "
                f"{span[2] if len(span) > 2 else 'its end'})")
    return None


def placed(mark: dict[str, Any], span: Span = (None, None)) -> bool:
    """Whether a stored mark can be placed: its step a whole number that its mark number
    could have counted (``_uncounted``), its time a finite number inside its run's
    ``span`` (:func:`run_span`, within :data:`SPAN_SLACK_S`). One that cannot (a damaged
    record: a time stored as text sorts after every number, so it read as the last mark)
    is left out of every output, and said (:func:`unplaced_marks_note`)."""
    return _misplaced(mark, span) is None


def marked(marks: Sequence[dict[str, Any]], span: Span = (None, None)) -> int:
    """How many marks the run made, as its stored ``marks`` say: how many are stored, or
    where a run may have stored fewer than it made (``MAX_STORED_MARKS`` of them, spread
    evenly) the highest mark number of those placed (:func:`placed`; no "spread evenly"
    from a damaged row)."""
    from wattwise.measure import run_steps

    if len(marks) != run_steps.MAX_STORED_MARKS:  # each was stored (or more than a run
        return len(marks)  # stores): a higher number is damage (``numbering_note``)
    return max([*(m["mark"] for m in marks if placed(m, span) and "mark" in m), len(marks)])


def numbering_note(marks: Sequence[dict[str, Any]], stored: int | None = None) -> str | None:
    """The first fault in the numbers of a run's placed marks (in time order), or None: a
    run stores its marks' steps counting up, numbered from 1 in the order they were
    made, every one of them up to ``MAX_STORED_MARKS`` and never more ("2 stored of
    1,000,000,000 marked, spread evenly" was read from one number, and steps counting
    down passed). ``stored``: how many rows the run holds, placed or not (default: as
    many as ``marks``), as :func:`marked` counts them."""
    from wattwise.measure import run_steps

    cap, stored = run_steps.MAX_STORED_MARKS, len(marks) if stored is None else stored
    if stored > cap:
        return (f"{stored:,} step marks are stored, more than the {cap:,} a run stores: a "
                "damaged record")
    rows = [(m["step"], m["mark"]) for m in marks if "mark" in m]
    for (step, place), (before, was) in zip(rows[1:], rows, strict=False):
        if step <= before:
            return (f"step marks count the steps done, but step {step} is not above step "
                    f"{before}, stored before it: a damaged record")
        if place <= was:
            return (f"step {step}'s mark number ({place:,}) is not above step {before}'s "
                    f"({was:,}), stored before it: a damaged record")
    high = max(rows, key=lambda r: r[1], default=None)
    if high is not None and stored < cap and high[1] > stored:
        return (f"step {high[0]}'s mark number ({high[1]:,}) is above the {stored:,} "
                f"marks stored: a run stores every mark up to {cap:,}: a damaged record")
    return None


def unplaced_marks_note(marks: Sequence[dict[str, Any]], span: Span = (None, None)
                        ) -> str | None:
    """One note naming the first stored mark that cannot be placed (:func:`placed`),
    with how many more cannot, or None."""
    bad = [why for m in marks if (why := _misplaced(m, span)) is not None]
    if not bad:
        return None
    rest = _more(len(bad) - 1, "mark cannot be placed either", "marks cannot be placed either")
    return f"{bad[0]}{rest}: a damaged record, not shown"


def unusable_marks_note(marks: Sequence[dict[str, Any]]) -> str | None:
    """One note naming the first mark (in time) whose energy is not usable
    (:func:`mark_fault`), with how many more are, or None."""
    faults = [(m.get("step"), why) for m in marks
              if placed(m) and (why := mark_fault(m)) is not None]
    if not faults:
        return None
    (step, why), more = faults[0], len(faults) - 1
    rest = _more(more, "mark's is not usable either", "marks' are not usable either")
    return (f"step {str(step)[:40]}'s stored energy is not usable: {why}{rest}: a damaged "
            "record, not shown")


def step_notes(marks: Sequence[dict[str, Any]], summary: Any = None,
               again: Callable[[], tuple[float, float | None] | None] | None = None,
               span: Span = (None, None)) -> list[str]:
    """Every note on a run's stored marks: those that cannot be placed (in its ``span``),
    those not usable, those below the mark before them, and (``summary``: the run's
    stored one) those above its total (``again``: its samples' where its stored one is
    not usable, as every output shows it)."""
    inside = [m for m in marks if placed(m, span)]  # the others' note is their own
    return [n for n in (unplaced_marks_note(marks, span), numbering_note(inside, len(marks)),
                        unusable_marks_note(inside), backward_note(inside),
                        above_total_note(inside, summary, again)) if n is not None]


def above_total_note(marks: Sequence[dict[str, Any]], summary: Any,
                     again: Callable[[], tuple[float, float | None] | None] | None = None
                     ) -> str | None:
    """One note naming the first usable mark whose energy is above the run's total, with
    how many more are, or None: a mark is part of the energy the total sums (40 µJ was a
    mark of a 37.8 µJ run). The total is the stored one where that is usable
    (``stored_energy.summary_energy_fault``), else its samples' (``again``: the figure
    and the time of the last sample it sums, None where it sums all; a 50 µJ mark was
    "since the start" under a 37.8 µJ total from the samples, with no word). A run
    without a summary is judged on its marks up to its last sample only."""
    from wattwise.records.stored_energy import AGREES, AGREES_J, summary_energy_fault

    usable = [(m.get("step"), e, m.get("t_unix_s")) for m in marks if placed(m)
              and mark_fault(m) is None and (e := finite_float(m.get("energy_j"))) is not None]
    stored = isinstance(summary, dict) and summary_energy_fault(summary) is None
    if not usable or (not stored and again is None) \
            or (summary is not None and not isinstance(summary, dict)):
        return None
    if stored and isinstance(summary, dict):
        got: tuple[float | None, float | None] | None = (
            finite_float(summary.get("energy_j")), None)
    else:
        got = None if again is None else again()
    if got is None or got[0] is None:
        return None
    total, until = got[0], got[1]
    above = [(step, e) for step, e, t in usable if e - total > max(AGREES_J, AGREES * abs(e))
             and (until is None or ((at := finite_float(t)) is not None and at <= until))]
    if not above:
        return None
    (step, e), more = above[0], len(above) - 1
    rest = _more(more, "mark is above it too", "marks are above it too")
    whose = "the run's total" if stored else "the run's total from its samples" \
        if summary is not None else "the energy of its samples"
    said, of = fmt_energies(e, total)
    return (f"step marks are energies since the run's start, but step {str(step)[:40]}'s "
            f"({said}) is above {whose} ({of}){rest}: a damaged record")


def backward_note(marks: Sequence[dict[str, Any]]) -> str | None:
    """One note naming the first mark (in time) whose energy is below the mark before
    it, with how many more are, or None. Marks without a usable energy (none, or one
    :func:`mark_fault` names) are passed over."""
    prev: tuple[Any, float] | None = None
    first: tuple[Any, float, Any, float] | None = None
    lower = 0
    for m in marks:
        e = finite_float(m.get("energy_j"))
        if e is None or not placed(m) or mark_fault(m) is not None:
            continue
        if prev is not None and e < prev[1] - _ROUNDING * max(abs(prev[1]), 1.0):
            lower += 1
            if first is None:
                first = (m.get("step"), e, prev[0], prev[1])
        prev = (m.get("step"), e)
    if first is None:
        return None
    step, e, before, was = first
    more = _more(lower - 1, "mark is below the one before it",
                 "marks are below the one before them")
    said, of = fmt_energies(e, was)
    return (f"step marks are energies since the run's start, but step {str(step)[:40]}'s "
            f"({said}) is below step {str(before)[:40]}'s ({of}), stored before it{more}: "
            "a damaged record")


def stored_step_notes(store: Any, record: Any) -> list[str]:
    """:func:`step_notes` of run ``record``'s stored marks; none where the reader holds
    no step marks (a copy of the samples alone)."""
    steps = getattr(store, "steps", None)
    if steps is None:
        return []

    def again() -> tuple[float, float | None] | None:  # the samples' total, as shown
        if record.summary is None:  # one ended without a summary: its partial figure
            from wattwise.carbon.partial import partial_energy
            from wattwise.carbon.sample_energy import stored_sample_sums

            if getattr(record, "status", None) == "running":  # its marks may lead it
                return None
            part = partial_energy(record, stored_sample_sums(store, record.id))
            return None if part is None or not part.usable else (
                part.energy_j, part.last_sample_unix_s)
        from wattwise.records.run_sums import repriced_share

        share = repriced_share(store, record.id)
        return None if share is None else (share[1], None)

    return step_notes(steps(record.id), record.summary, again, run_span(record))
