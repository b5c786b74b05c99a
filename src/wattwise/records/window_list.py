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
    windows = store.windows(run_id, limit=limit)
    # fewer than the limit is every one there was when read (a live run may add more)
    total = len(windows) if len(windows) < limit else max(store.window_count(run_id),
                                                          len(windows))
    if total <= len(windows):
        return windows, total, []
    return windows, total, [
        f"{len(windows):,} of {total:,} windows listed (the first in time); "
        f"`wattwise export {run_id} -f json` gives them all"]
