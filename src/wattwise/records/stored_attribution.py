"""A run's stored attribution (the process tree's share of the machine's busy CPU time,
and of its CPU energy), judged before any output shows it: every figure of it comes
from the two CPU times, so one no run could hold ("(200%)", "5.00 CPU-s of 2.12 busy
CPU-s") is said, not shown, in ``show``, ``report`` and the run page alike."""

from __future__ import annotations

import math
from typing import Any

from wattwise.records.stored_energy import (
    AGREES_J,
    disagree,
    energy_fault,
    figure_fault,
    finite_float,
    rounding_slack,
    shown_value,
)

#: The most CPU-seconds one stored attribution may hold: 1,000 CPUs busy for 31 years.
#: A figure past it is a damaged record ("1e300 CPU-s" would print 301 digits).
MAX_CPU_S = 1e12

_ATTRIBUTED = ("cpu_energy_j", "attributed_cpu_energy_j", "unattributed_cpu_energy_j")
_TIMES = ("tree_cpu_s", "machine_busy_cpu_s", "share")


def time_fault(a: dict[str, Any]) -> str | None:
    """What is wrong with an attribution's CPU times and its share of them, or None:
    each a number, no CPU time negative or past :data:`MAX_CPU_S`, the tree's at most
    the machine's busy time, and the share that time over the busy time (0 where the
    machine was never busy: ``measure.windows.attribution`` writes it so)."""
    for key in _TIMES:
        if a.get(key) is None:
            return f"the stored {key} of its attribution is missing"
    for key in _TIMES[:2]:
        why = figure_fault(a[key], None, None, MAX_CPU_S, f"{MAX_CPU_S:g} CPU-s", "CPU-s",
                            ("", ""))
        if why is not None:
            return f"the stored {key} of its attribution is not usable: {why}"
    share = finite_float(a["share"])
    why = (None if share is None or 0 <= share <= 1 + 1e-6 else f"negative ({share:g})"
           if share < 0 else
           f"above 1 ({share:g}: a share is at most all of the machine's busy CPU time)")
    if share is None or why is not None:
        why = why or f"not a finite number (stored as {shown_value(a['share'])})"
        return f"the stored share of its attribution is not usable: {why}"
    tree, busy = (float(a[k]) for k in _TIMES[:2])
    if tree > busy + rounding_slack(tree, busy):
        return (f"its stored process tree's CPU time ({tree:g} CPU-s) is above the machine's "
                f"busy CPU time ({busy:g} CPU-s): not usable")
    of = tree / busy if busy > 0 else 0.0
    if abs(share - of) > 1e-6:
        return (f"its stored share ({share:g}) is not its process tree's CPU time over the "
                f"machine's busy CPU time ({tree:g} of {busy:g} CPU-s: {of:.6g}): not usable")
    return None


def judged_attribution(a: Any) -> Any:
    """A stored attribution whose CPU times (:func:`time_fault`) and energies (each
    usable, :func:`~wattwise.records.stored_energy.energy_fault`; its two shares its
    whole, split by its share of the busy time) are sound, as stored. Where the times
    are not: none of its figures, with ``time_note`` (and ``energy_note``) saying why;
    where an energy is not: none of its energies, with ``energy_note`` ("of its
    -2000000000000000.0 J of CPU energy" was shown)."""
    if not isinstance(a, dict) or not a or any(isinstance(a.get(k), str)
                                               for k in ("time_note", "energy_note")):
        return a  # (one judged already: ``report`` judges, then prints as ``show`` does)
    why = time_fault(a)
    if why is not None:
        return {**a, **dict.fromkeys(_TIMES + _ATTRIBUTED), "from_samples": False,
                "time_note": why, "energy_note": why}

    def withheld(note: str) -> dict[str, Any]:
        return {**a, **dict.fromkeys(_ATTRIBUTED), "from_samples": False, "energy_note": note}

    for key in _ATTRIBUTED:
        if a.get(key) is None:  # "of its - of CPU energy" was shown, with no word
            return withheld(f"the stored {key} of its attribution is missing")
        why = energy_fault(a.get(key))
        if why is not None:
            return withheld(f"the stored {key} of its attribution is not usable: {why}")
    # (a stored -0.0 is 0: "(-0 J)" was said)
    whole, mine, others = (float(a[k]) + 0.0 for k in _ATTRIBUTED)
    if abs(mine + others - whole) > AGREES_J and disagree(mine + others, whole):
        # its two parts are the whole, split ("of its 5.0 µJ, 4.0 µJ ... and 11.0 µJ")
        return withheld(f"the stored shares of its attribution ({mine:g} J and {others:g} J)"
                        f" do not add up to its stored CPU energy ({whole:g} J): not usable")
    split = whole * float(a["share"])
    if abs(mine - split) > AGREES_J and disagree(mine, split):
        return withheld(f"the stored process tree's share of its CPU energy ({mine:g} J) is "
                        f"not its share of the busy CPU time ({float(a['share']):g}) of its "
                        f"stored CPU energy ({whole:g} J): not usable")
    return a


def repriced_attribution(a: Any, cpu_j: list[float | None], note: Any) -> Any:
    """A stored attribution of a run whose stored total is not usable: its CPU energy
    (and the shares of it) from its counted CPU domains' figures priced again (``cpu_j``;
    ``from_samples``), or none, with the total's ``note``, where one has no figure; its
    CPU times as stored, where they are usable (:func:`time_fault`; none where not)."""
    if not isinstance(a, dict) or not a:
        return a
    if time_fault(a) is not None:
        return judged_attribution(a)
    share = min(float(a["share"]), 1.0)  # within its rounding of 1: all of it
    if any(e is None for e in cpu_j):
        return {**a, **dict.fromkeys(_ATTRIBUTED), "from_samples": False,
                "energy_note": note}
    e = math.fsum(e for e in cpu_j if e is not None)
    return {**a, "cpu_energy_j": e, "attributed_cpu_energy_j": e * share,
            "unattributed_cpu_energy_j": e * (1.0 - share), "from_samples": True,
            "energy_note": note}
