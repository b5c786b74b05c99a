"""Step marks stored lower than the one before them.

A step mark (``Run.step()``) stores the energy since the run's start, so each is at
least the one before it. A mark below (another program's edit, a damaged row) was
printed as it stood: ``show`` gave "the last at step 3: 1000.0 J since the start" after
step 2's 6654.1 J, and the run page drew it, with no word anywhere."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from wattwise._finite import finite_float
from wattwise.measure.results import fmt_joules

__all__ = ["backward_note", "stored_step_notes"]

#: Rounding a mark may carry (relative) without being called lower.
_ROUNDING = 1e-9


def backward_note(marks: Sequence[dict[str, Any]]) -> str | None:
    """One note naming the first mark (in time) whose energy is below the mark before
    it, with how many more are, or None. Marks without a usable energy are passed over."""
    prev: tuple[Any, float] | None = None
    first: tuple[Any, float, Any, float] | None = None
    lower = 0
    for m in marks:
        e = finite_float(m.get("energy_j"))
        if e is None:
            continue
        if prev is not None and e < prev[1] - _ROUNDING * max(abs(prev[1]), 1.0):
            lower += 1
            if first is None:
                first = (m.get("step"), e, prev[0], prev[1])
        prev = (m.get("step"), e)
    if first is None:
        return None
    step, e, before, was = first
    more = ("" if lower < 2 else "; 1 more mark is below the one before it" if lower == 2
            else f"; {lower - 1:,} more marks are below the one before them")
    return (f"step marks are energies since the run's start, but step {str(step)[:40]}'s "
            f"({fmt_joules(e)}) is below step {str(before)[:40]}'s ({fmt_joules(was)}), stored "
            f"before it{more}: a damaged record")


def stored_step_notes(store: Any, record: Any) -> list[str]:
    """:func:`backward_note` of run ``record``'s stored marks, as a list; none where the
    reader holds no step marks (a copy of the samples alone)."""
    steps = getattr(store, "steps", None)
    if steps is None:
        return []
    note = backward_note(steps(record.id))
    return [] if note is None else [note]
