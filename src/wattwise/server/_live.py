"""Runs stored as running, told running or lost from a few columns (``records.liveness``).

After many killed jobs thousands of runs are stored as running with a dead process;
each is decided from a few columns read in one query, never from its whole record
(which took 8-14 s for 20,000 of 100,000 runs), and a run found lost with the same
columns stays lost (a process that is gone does not come back, a heartbeat too old
only grows older).
"""

from __future__ import annotations

import json
import math
import sqlite3
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

from wattwise.records.liveness import hostname, status_of

#: How long ``Reads.liveness`` keeps the columns it decides from, in seconds.
LIVE_TTL_S = 2.0


class LiveRuns:
    """Liveness of the runs stored as running, and figures kept while a lost run's row
    stays the same, for one ``Reads`` (which pages them: ``Reads.live_page``)."""

    def __init__(self, rows: Callable[..., list[sqlite3.Row]],
                 lock: threading.RLock) -> None:
        self.rows = rows
        self._lock = lock
        #: runs found lost, with the columns they were found lost with
        self._lost_seen: dict[int, tuple[Any, ...]] = {}
        self._kept: dict[Any, tuple[Any, Any]] = {}  # ``kept``

    #: The columns a run's liveness is decided from, kept this long (a second or two: a
    #: pid and host never change, a heartbeat matters after minutes); each decision is
    #: made again at every call, so a process that dies is seen at once.
    _live_cols: tuple[float, dict[int, tuple[Any, ...]]] = (-math.inf, {})

    def liveness(self, ids: Sequence[int], stale_after_s: float) -> dict[int, str]:
        """The status of each of ``ids`` (runs stored as running) as ``Store`` gives it:
        ``running`` or ``lost`` (``records.liveness.status_of``, with the store's
        ``stale_after_s``), from its columns as read at most ``LIVE_TTL_S`` ago: a run
        stored with another status by then has that status, one that does not exist is
        left out."""
        stamp = time.monotonic()
        with self._lock:
            at, cols = self._live_cols
        if stamp - at > LIVE_TTL_S:
            at, cols = stamp, {}
        missing = [rid for rid in ids if rid not in cols]
        if missing:
            cols = dict(cols)
            for r in self.rows(
                "SELECT id, status, hostname, pid, pid_started_unix_s, heartbeat_unix_s,"
                " started_unix_s FROM runs WHERE id IN (SELECT value FROM json_each(?))",
                (json.dumps(missing),)):
                cols[int(r[0])] = tuple(r[1:])
            with self._lock:
                self._live_cols = (at, cols)
        here, now = hostname(), time.time()
        out: dict[int, str] = {}
        lost = self._lost_seen
        for rid in ids:
            c = cols.get(rid)
            if c is None:
                continue
            if lost.get(rid) == c:  # lost with these very columns: lost for good
                out[rid] = "lost"
                continue
            out[rid] = status_of(*c, here=here, now=now, stale_after_s=stale_after_s)
            if out[rid] == "lost":
                lost[rid] = c
        return out

    def kept(self, key: Any, mark: Any, make: Callable[[], Any]) -> Any:
        """``make()``, kept under ``key`` while ``mark`` stays the same: a lost run's
        partial figures (its samples no longer change) are priced once, not on every
        page that lists it."""
        got = self._kept.get(key)
        if got is not None and got[0] == mark:
            return got[1]
        value = make()
        if len(self._kept) >= 100_000:
            self._kept.clear()
        self._kept[key] = (mark, value)
        return value

    def sample_marks(self, ids: Sequence[int]) -> dict[int, tuple[Any, ...]]:
        """For each of ``ids``: what its partial figures change with (its stored status,
        heartbeat and end, its last sample's time), so that a figure computed from a
        run's samples is kept while they stay the same."""
        return {int(r[0]): tuple(r[1:]) for r in self.rows(
            "SELECT id, status, heartbeat_unix_s, ended_unix_s, summary_json IS NULL,"
            " (SELECT max(t_unix_s) FROM samples WHERE run_id = runs.id)"
            " FROM runs WHERE id IN (SELECT value FROM json_each(?))", (json.dumps(list(ids)),))}


def lost_mark(record: Any) -> tuple[Any, ...] | None:
    """What a lost run's partial figures depend on, beyond its samples (which no longer
    change): its row; None where they depend on a file too (an intensity trace or a
    clean-supply profile, which may change), or the run is not lost."""
    if getattr(record, "status", None) != "lost":
        return None
    host = record.host if isinstance(record.host, dict) else {}
    options = host.get("carbon_options")
    if isinstance(options, dict) and (options.get("clean_profile")
                                      or options.get("intensity_trace")):
        return None
    return (record.heartbeat_unix_s, record.ended_unix_s, record.pid,
            json.dumps(host, sort_keys=True, default=str),
            json.dumps(record.tags, sort_keys=True, default=str))
