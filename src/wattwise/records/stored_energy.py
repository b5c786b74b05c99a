"""What is wrong with a run's stored total energy, in words: every output that shows a
stored total (``wattwise show`` and ``runs``, ``export``, the dashboard's list and run
page) says the same, and none shows a damaged figure as a reading."""

from __future__ import annotations

import math
from typing import Any


def _finite(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if math.isfinite(value) else None


#: What is wrong with a summary that holds its total as null: every summary wattwise
#: writes holds a number there, so a null is a damaged record, not "no figure yet" (a
#: run still recording, or lost before it ended, has no summary at all).
STORED_NULL = "missing (stored as null)"


def unusable_energy_notes(summary: Any) -> list[str]:
    """A note where the stored total energy is not usable (null, text, not finite,
    negative, implausibly large, outside its own range): a damaged record, shown so on
    the page, in the runs list and by ``wattwise show``, and left out of the totals."""
    why = summary_energy_fault(summary)
    return [] if why is None else [unusable_note(why)]


def unusable_note(why: str) -> str:
    """The one note every output gives for a stored total that is not usable."""
    return f"the stored energy is not usable: {why}: a damaged record"


def summary_energy_fault(summary: Any) -> str | None:
    """What is wrong with the total of a stored summary (``energy_j`` with its ``low_j`` and
    ``high_j``), or None where it is usable, or where there is no summary or it holds no
    ``energy_j`` key (nothing stored to judge). A summary holding ``energy_j`` as null is
    damaged (``STORED_NULL``): unlike :func:`energy_fault`, whose None means no total."""
    if not isinstance(summary, dict) or "energy_j" not in summary:
        return None
    if summary["energy_j"] is None:
        return STORED_NULL
    return energy_fault(*(summary.get(k) for k in ("energy_j", "low_j", "high_j")))


def energy_fault(e: Any, lo: Any = None, hi: Any = None) -> str | None:
    """What is wrong with a stored total energy ``e`` (with its own ``lo``-``hi`` range),
    or None where it is usable or is None (no total: a run without a summary; a summary
    holding a null is judged by :func:`summary_energy_fault`). The range is checked as
    the dashboard's page checks it: only a range whose low is not above its high, with a
    relative slack of 1e-6 for the rounding of sums."""
    from wattwise.carbon.accounting import MAX_STORED_ENERGY_J

    if e is None:
        return None
    if isinstance(e, float) and not math.isfinite(e):
        return f"not a finite number (stored as {e!r})"
    if isinstance(e, bool) or not isinstance(e, (int, float)):
        return f"not a number (stored as {str(e)[:40]!r})"
    if e < 0:
        return f"negative ({e:g} J)"
    if e > MAX_STORED_ENERGY_J:
        return f"implausibly large ({e:g} J, more than {MAX_STORED_ENERGY_J:g} J)"
    a, b = _finite(lo), _finite(hi)
    if a is not None and b is not None and a <= b:
        slack = 1e-6 * max(abs(a), abs(b), 1e-9)
        if not a - slack <= e <= b + slack:
            return f"outside its own range ({e:g} J, range {a:g}-{b:g} J)"
    return None
