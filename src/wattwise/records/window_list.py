"""A run's windows as a page or ``show`` lists them: the first in time, a bounded number,
with how many there are. A window around every batch makes tens of thousands; listing
them all took minutes and megabytes, while ``export -f json`` gives every one."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from wattwise.records.store import Store

#: At most this many windows are listed with a run (the first in time): a run with a
#: window around every batch (100,000 of them) is still answered in a moment; its
#: export (``wattwise export ID -f json``) gives them all.
MAX_LISTED_WINDOWS = 500


def listed_windows(store: Store, run_id: int, limit: int = MAX_LISTED_WINDOWS
                   ) -> tuple[list[dict[str, Any]], int, list[str]]:
    """The run's first ``limit`` windows in time order, how many it has stored, and a
    note saying so where that is more than are listed (read from SQLite with ``LIMIT``
    and counted in its index, never every window decoded)."""
    windows = [usable_energy(w) for w in store.windows(run_id, limit=limit)]
    # fewer than the limit is every one there was when read (a live run may add more)
    total = len(windows) if len(windows) < limit else max(store.window_count(run_id),
                                                          len(windows))
    if total <= len(windows):
        return windows, total, []
    return windows, total, [
        f"{len(windows):,} of {total:,} windows listed (the first in time); "
        f"`wattwise export {run_id} -f json` gives them all"]


def usable_energy(window: dict[str, Any]) -> dict[str, Any]:
    """``window`` as it is listed: where its stored energy is not usable (text, not
    finite, negative, implausibly large, outside its own range: the one rule,
    ``records.stored_energy.energy_fault``), ``energy_j`` is None and ``energy_note``
    says why, in the words ``wattwise show`` and the run page write in its energy cell,
    so no reader of the listing takes a damaged figure (1e+308 J, -50 J) for a reading."""
    from wattwise.records.stored_energy import energy_fault, finite_float

    why = energy_fault(window.get("energy_j"), window.get("low_j"), window.get("high_j"))
    if why is None:
        return window
    # a bound that is no number (an infinity, text) is named by the note, not given
    bounds = {k: finite_float(window[k]) for k in ("low_j", "high_j")
              if window.get(k) is not None}
    return {**window, **bounds, "energy_j": None, "energy_note": window_energy_note(why)}


def window_energy_note(why: str) -> str:
    """What a window's energy cell says where its stored energy is not usable."""
    return f"not usable: {why}: a damaged record"
