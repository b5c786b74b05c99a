"""Every run of the runs index read again now and then, in the background.

A run that has ended never changes in wattwise, so the runs index reads only new runs
and those still running (``runs_index``). Another tool may still edit an ended run (its
status, its summary) or delete one while a dashboard runs: its list, its filters and
``/metrics`` kept the old run until a restart (a finished run set to ``paused`` stayed
finished in ``/metrics``; a deleted run stayed counted). So a request ``RECHECK_S``
after the index was made, or after the last such pass, starts another in a thread: it
reads every run up to the newest indexed, a chunk at a time with a pause between
(``CHUNK``, ``PAUSE_S``), gives each changed run its new entry, and drops
the runs it did not find (an id is never given again). The next pass waits at least
``RECHECK_TIMES`` the last one's length: it takes a tenth of a processor at most.
Runs deleted, or inserted below the highest id, change the count of runs: each look of
the index finds those at once (``same_count``).
"""

from __future__ import annotations

import contextlib
import math
import threading
import time
from collections.abc import Callable
from typing import Any

#: Seconds after the index is made, or after the last pass, before the next.
RECHECK_S = 30.0
#: The next pass waits at least this many times the last one's length.
RECHECK_TIMES = 10.0
#: Runs read per query, and the pause after each (as ``runs_index`` builds).
CHUNK = 250
PAUSE_S = 0.002


class Rechecks:
    """When ``index`` (a ``runs_index.RunsIndex``) reads every run again, and the pass."""

    def __init__(self, index: Any, columns: str) -> None:
        self._index = index
        self._columns = columns  # what the index reads of a run (``ENTRY_COLUMNS``)
        self._lock = threading.Lock()
        self._at = time.monotonic()  # when the last pass ended (or the index was made)
        self._every = 0.0  # ``RECHECK_TIMES`` the last pass's length
        self._running = False

    def start_when_due(self, now: bool = False) -> None:
        """A pass in a thread, where one is due (or ``now``) and none is under way."""
        with self._lock:
            if self._running or (not now and time.monotonic() - self._at
                                 < max(RECHECK_S, self._every)):
                return
            self._running = True
        threading.Thread(target=self.run, name="wattwise-dashboard-recheck",
                         daemon=True).start()

    def run(self) -> None:
        """One pass (see the module docstring). A read refused (the server stopping, the
        file replaced) ends it; the next one reads again."""
        index, began = self._index, time.monotonic()
        try:
            upto, after = index._seen_id, -math.inf  # ``runs_index.NO_ID``: every id
            seen: set[int] = set()
            while True:
                if index.quiet.stopped.is_set():
                    return
                with index._reading:
                    rows = index._rows(f"SELECT {self._columns} FROM runs WHERE id > ? AND"
                                       " id <= ? ORDER BY id LIMIT ?", (after, upto, CHUNK))
                    index._take(rows)
                seen.update(int(r[0]) for r in rows)
                if len(rows) < CHUNK:
                    break
                after = int(rows[-1][0])
                time.sleep(PAUSE_S)
            drop_runs(index, lambda rid: rid <= upto and rid not in seen)
        except Exception:  # noqa: BLE001 - a background pass: the next one reads again
            return
        finally:
            with self._lock:
                self._every = RECHECK_TIMES * (time.monotonic() - began)
                self._at = time.monotonic()
                self._running = False


#: The count of runs and their lowest and highest ids: each its own subquery, which
#: SQLite answers from an index (as one query with three aggregates it reads every row).
_BOUNDS = ("SELECT (SELECT count(*) FROM runs), (SELECT min(id) FROM runs),"
           " (SELECT max(id) FROM runs)")


def same_count(index: Any, columns: str) -> None:
    """Runs another tool deleted, or inserted below the highest id read, found at once
    where the count of runs is not the index's, or the lowest or highest id is one it
    lacks (a run re-keyed below every other, or a deletion and an insert below them that
    leave the count): every id is read (``_ids``), the runs gone leave the index and
    those it lacks are read into it. The count and the ids come from SQLite's indexes
    (well under a millisecond for 100,000 runs): the list's total stood above
    ``count(*)`` (by 35 in one storm of deletions) until a page met a deleted run or the
    next pass, and a run re-keyed to -1500 was missing for 29.7 s. Edits, and a re-key
    (or a deletion and an insert) between the lowest and highest ids that leaves the
    count, wait for the next pass. ``columns``: what the index reads of a run; the
    caller holds ``index._reading``."""
    count, low, high = index._rows(_BOUNDS, ())[0]
    entries = index.entries
    if int(count) == len(entries) and all(i is None or i in entries for i in (low, high)):
        return
    present = _ids(index)
    drop_absent(index, present)
    lacking = sorted(present.difference(index.entries))
    for at in range(0, len(lacking), CHUNK):
        chunk = lacking[at:at + CHUNK]
        index._take(index._rows(f"SELECT {columns} FROM runs WHERE id IN"
                                f" ({', '.join('?' * len(chunk))})", chunk))


def _ids(index: Any) -> set[int]:
    """Every id ``index``'s database holds, as SQLite lists them in one text: 20 ms for
    100,000 runs just after another program's write, where a row per id took 100-160 ms
    in a dashboard serving beside it."""
    (text,) = index._rows("SELECT group_concat(id) FROM runs", ())[0]
    return set(map(int, text.split(","))) if text else set()


def drop_runs(index: Any, gone: Callable[[int], bool]) -> None:
    """The runs of ``index`` that ``gone`` names leave it: deleted (``drop_absent``)."""
    with index._lock:
        _drop(index, {rid for rid in index.entries if gone(rid)})


def drop_absent(index: Any, present: set[int]) -> None:
    """The runs of ``index`` not in ``present`` leave it: deleted."""
    with index._lock:
        _drop(index, index.entries.keys() - present)


def _drop(index: Any, dropped: set[int]) -> None:
    """``dropped`` leave ``index``, under its lock. Its entries become a new dict: a
    reader holding the old one reads it whole. Each sort order kept loses them and stays
    in order (made again, an order of 100,000 runs took 130-230 ms of the first page
    after another program's delete)."""
    if not dropped:
        return
    entries = dict(index.entries)
    for rid in dropped:
        del entries[rid]
        index.open.discard(rid)
        index._looks.forget(rid)
    index.entries = entries
    index._version += 1
    index._sums.clear()
    index.orders = {sort: (_without(valued, dropped), _without(missing, dropped))
                    for sort, (valued, missing) in index.orders.items()}


def _without(ids: list[int], dropped: set[int]) -> list[int]:
    """``ids`` less ``dropped``, in order, as a new list (a reader may hold the old)."""
    if len(dropped) > 16:
        return [i for i in ids if i not in dropped]
    out = ids.copy()
    for rid in dropped:  # C's scan: a fraction of a millisecond for 100,000 ids
        with contextlib.suppress(ValueError):
            out.remove(rid)
    return out


def page_of_found(index: Any, query: Any, rows_of: Callable[[list[int]], list[Any]]
                  ) -> tuple[list[Any], int]:
    """The page of ``query`` (a ``RunsQuery``) from ``index``, its rows (``rows_of``), and
    the total. Where a run of it is found deleted (by another tool), every run the
    database no longer holds leaves the index at once (the ids alone are read), the page
    is asked again, and a pass starts for other changes: the page listed fewer rows
    beside the old total until the next pass (``"runs": []`` at one offset of 50,000)."""
    ids, total = index.page(query)
    rows = rows_of(ids)
    if len(rows) < len(ids):
        with index._reading:  # every id there is (``_ids``)
            present = _ids(index)
        drop_absent(index, present)
        index.rechecks.start_when_due(now=True)
        ids, total = index.page(query)
        rows = rows_of(ids)
    return rows, total
