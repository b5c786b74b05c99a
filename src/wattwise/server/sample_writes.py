"""Which runs had samples added since a reader last looked, from SQLite's row ids.

What is read from a run's samples (its notes, its figures priced again) is kept while the
run's row and its samples' first and last times stay the same: reading a million samples
again at each request is not affordable. A sample added between those times (a damaged
or merged record, another tool's import) changed nothing of that, so a dashboard kept
notes that ``show`` no longer gives. SQLite gives each new row a row id above the highest
(the table has no ``AUTOINCREMENT``, so one above the highest there is), so the rows added
since the last look are those above the highest row id seen then: one indexed step to
see whether there are any, and one read of them only (not of the whole run) to see whose
they are. Not seen: a sample changed in place (it keeps its row id), rows removed from
anywhere but the table's end, and a row added under a row id freed at the end by the
same write (the highest row id unchanged); rows removed from the end (the highest row id
lower than seen) count as a change of every run. The recorder only adds rows.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any


class SampleWrites:
    """How many times rows were seen added to each run's samples (``generation``)."""

    def __init__(self, rows: Callable[..., Any]) -> None:
        self._rows = rows
        self._lock = threading.Lock()
        self._seen: int | None = None  # the highest row id seen
        self._added: dict[int, int] = {}
        self._epoch = 0  # rows removed: every run's generation changes

    def generation(self, run_id: int) -> tuple[int, int]:
        """What changes whenever rows are added to run ``run_id``'s samples (or removed
        from the table's end), read now."""
        with self._lock:
            top = int(self._rows("SELECT coalesce(max(rowid), 0) FROM samples")[0][0])
            if self._seen is None:
                self._seen = top
            elif top > self._seen:
                for r in self._rows("SELECT DISTINCT run_id FROM samples WHERE rowid > ?",
                                    (self._seen,)):
                    rid = r[0]
                    self._added[rid] = self._added.get(rid, 0) + 1
                self._seen = top
            elif top < self._seen:
                self._epoch += 1
                self._seen = top
            return self._epoch, self._added.get(run_id, 0)
