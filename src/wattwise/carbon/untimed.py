"""A run without a summary whose counted samples all have a time that is not usable
(text, NULL, an infinity: another program's write, a damaged row) is priced over its
recorded start to end.

Why: its partial figure counts their energy (``sample_energy.sample_sums``: a sample's
reading does not need its time), and pricing scales the intervals of the samples it can
place in time to that figure. With none to place, ``show`` gave the energy and no word
on emissions, ``report`` refused the run ("no energy samples to price") and the
CodeCarbon export said ``report`` prices it. The samples lie in the run, whose start and
end (or last heartbeat) are recorded: one interval over it prices the same energy at the
intensity over the run, with one note saying so.

Where some have a time, the others' energy is priced with theirs: the intervals are
scaled to the figure, and their range to its range (``in_part_range``): a range kept in
the proportion of the timed samples alone was the range of one sample, 6 times wide,
beside an energy range of 2.
"""

from __future__ import annotations

from typing import Any

from wattwise.carbon.accounting import real_or_none

#: The note of a run priced over its recorded start to end (``over_the_run``).
UNTIMED_NOTE = ("no counted sample has a usable time: the run's energy is priced over its "
                "recorded start to end")

#: Why such a run is not priced where its recorded start or end is not usable either.
UNPLACED_NOTE = ("no counted sample has a usable time, and the run's recorded start or end "
                 "is not usable either: its energy cannot be placed in time to be priced")

Interval = tuple[float, float, float, float, float]


def unplaced(start: Any, end: Any) -> bool:
    """Whether a run's recorded start or end (``sample_energy.recorded_end``) is not a
    usable window to price it over: either not a number, or the end before the start."""
    start, end = real_or_none(start), real_or_none(end)
    return start is None or end is None or end < start


def over_the_run(part: Any, out: list[Interval], notes: list[str] | None) -> list[Interval]:
    """``out`` (a partial run's priced intervals), or, where it is empty and ``part`` (a
    ``sample_energy.PartialEnergy``) holds a usable figure above 0 and a recorded start
    and end, one interval over them holding it, ``UNTIMED_NOTE`` added to ``notes``."""
    if out:
        return in_part_range(part, out)
    if not part.usable or not (real_or_none(part.energy_j) or 0.0) > 0:
        return out
    if unplaced(part.start_unix_s, part.end_unix_s):
        return out
    if notes is not None and UNTIMED_NOTE not in notes:
        notes.append(UNTIMED_NOTE)
    return [(float(part.start_unix_s), float(part.end_unix_s), float(part.energy_j),
             float(part.low_j), float(part.high_j))]


def in_part_range(part: Any, out: list[Interval]) -> list[Interval]:
    """``out`` (scaled to ``part``'s energy), each interval's low and high set to its
    energy in the proportion of ``part``'s range, where their sums are not ``part``'s
    range already (to 1e-9): samples left out of the pricing (no usable time, a bound not
    a number) left the intervals' range that of the others."""
    energy, low, high = (real_or_none(getattr(part, k, None)) for k in
                         ("energy_j", "low_j", "high_j"))
    if energy is None or low is None or high is None or energy <= 0:
        return out
    lo_sum, hi_sum = sum(x[3] for x in out), sum(x[4] for x in out)
    if abs(lo_sum - low) <= 1e-9 * high and abs(hi_sum - high) <= 1e-9 * high:
        return out
    lo_k, hi_k = min(low, energy) / energy, max(high, energy) / energy
    return [(a, b, e, e * lo_k, e * hi_k) for a, b, e, _lo, _hi in out]
