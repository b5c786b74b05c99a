"""Reads that wait for another program's write lock in short steps, looking between them
at whether their reads were stopped.

A read refused by a lock waits in SQLite's busy handler: one C call that neither a signal
nor ``Connection.interrupt`` ends, so a dashboard told to stop (SIGTERM, Ctrl-C) while its
reads waited on the write lock of another program (a rollback-journal file) exited only
when the waits ran out, 27-57 s later, and a Ctrl-C of ``wattwise show`` was not heard
for 30 s. Read connections wait ``STEP_S`` at a time (their ``busy_timeout``), and
``retried`` tries again until the read's own wait is spent or its reads are stopped
(``ReadOnlyDatabase.stop_reads``); a Ctrl-C is raised between two steps.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from contextvars import ContextVar
from typing import Any, TypeVar

T = TypeVar("T")

#: Seconds a read connection waits for a lock in one call (its ``busy_timeout``).
STEP_S = 0.1
#: When the request a read serves arrived (``time.monotonic()``), set by the dashboard
#: for each request: its reads' wait for a lock counts from there until one of them gets
#: through, so a request that waited for one of the server's threads first (more than 40
#: reads at once under a lock) does not wait its whole time again once it has one (503s
#: came at 60 s); after that, each read waits its own time (a lock taken again between
#: two reads of one request). None elsewhere.
ARRIVED: ContextVar[float | None] = ContextVar("wattwise_read_arrived", default=None)


def retried(read: Callable[[], T], timeout_s: float, reads: Any = None) -> T:
    """``read()``, tried again while SQLite says "database is locked", until
    ``timeout_s`` has passed since the first try or ``reads`` (a ``Database`` or
    ``ReadOnlyDatabase``) says its reads were stopped (its ``stopped``); then the last
    error is raised (its callers say it in wattwise's words). A request's reads count
    ``timeout_s`` from its arrival until one gets through (``ARRIVED``)."""
    now, arrived = time.monotonic(), ARRIVED.get()
    deadline = (now if arrived is None else min(now, arrived)) + timeout_s
    while True:
        try:
            got = read()
        except sqlite3.OperationalError as exc:
            if "database is locked" not in str(exc) or time.monotonic() >= deadline \
                    or getattr(reads, "stopped", None) is not None:
                raise
        else:
            if arrived is not None:  # this request's thread (its own context) read the file
                ARRIVED.set(None)
            return got


def executed(db: Any, sql: str, params: Any, timeout_s: float) -> sqlite3.Cursor:
    """``sql`` run on this thread's read connection of ``db`` (its ``reader``), waiting
    for a lock as ``retried`` does: a query's first step takes the lock, so what it reads
    after is read under it."""
    conn = db.reader(timeout_s)
    return retried(lambda: conn.execute(sql, params), timeout_s, db)
