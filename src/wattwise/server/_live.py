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
import os
import sqlite3
import threading
import time
import weakref
from collections.abc import Callable, Sequence
from typing import Any

# Imported with the server, not at the first page of running or lost runs, which waited
# 0.1-0.3 s for them on a busy machine: the store asks ``psutil`` about each such row,
# ``hostname`` imports ``measure.host``, and ``carbon.partial`` prices a lost row's
# partial figures with ``carbon.market``.
import psutil

import wattwise.carbon.market
import wattwise.measure.host  # noqa: F401
from wattwise.records.growing_sums import FULL_RESUM_S
from wattwise.records.liveness import hostname, status_of
from wattwise.records.run_sums import WriteCheck
from wattwise.server.sample_writes import SampleWrites

#: How long ``Reads.liveness`` keeps the columns it decides from, in seconds.
LIVE_TTL_S = 2.0
#: How long ``LiveRuns.alive`` keeps its read of the runs stored as running while their
#: ids and heartbeats (all a writer changes in them) stay the same: another tool's edit of
#: a pid or host is seen after this, in seconds.
SCAN_TTL_S = 30.0

#: ``alive`` reads the runs of another host whose heartbeat is at most this old (or the
#: store's ``stale_after_s``, if longer): the others are lost for a staleness up to it.
_RECENT_S = 3600.0
#: The run's heartbeat is a finite time before ``:cut`` that ``liveness.status_of`` goes
#: by: not before the run's start (where the start is a finite number).
_OLD = ("coalesce(heartbeat_unix_s BETWEEN -1.7976931348623157e308 AND :cut"
        " AND (NOT (typeof(started_unix_s) IN ('integer', 'real') AND started_unix_s"
        " BETWEEN -1.7976931348623157e308 AND 1.7976931348623157e308)"
        " OR heartbeat_unix_s >= started_unix_s), 0)")


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
        #: ``alive``'s read of the runs stored as running: what it was read for, when, and
        #: the rows (one per pid of this host, one per other run that may be alive)
        self._scan: tuple[tuple[Any, ...], float, float,
                         tuple[list[tuple[Any, ...]], frozenset[int]]] | None = None
        self._scanning = threading.Lock()  # one such read at a time: the others wait for it
        #: this host's pids (with their recorded start) found gone: gone for good
        self._dead: set[tuple[Any, ...]] = set()
        self._writes = SampleWrites(rows)  # samples added to a run since first looked

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

    def alive(self, stale_after_s: float) -> tuple[frozenset[int], frozenset[int]]:
        """The ids of the runs stored as running, and of those running now, as
        ``liveness`` decides them; every other run stored as running is lost.

        A page of lost runs needs every such run decided (20,000 after many killed
        jobs): one row per run in Python, each decided alone, took 0.2-0.6 s, and more
        while the runs index was built beside it (each row fetched gave the interpreter
        away). So SQLite reads them in one pass and hands over one row per process of
        this host (with the ids of its runs: a pid is asked about once, and one found
        gone is not asked about again) and one per run of another host whose heartbeat
        is recent enough to matter; the others are lost however long ago they stopped.
        That read is kept (``_running``); each decision is made again at every call."""
        rows, stored = self._running(stale_after_s)
        if not stored:
            return stored, frozenset()
        here, now = hostname(), time.time()
        pids = _process_ids()  # read once: a pid not among them is gone (20,000 asked)
        out: list[int] = []
        kept: list[tuple[Any, ...]] = []  # the rows that may be running at a later call
        for row in rows:
            host, pid, pid_started, heartbeat, started, old, ids = row
            # this host's pid: ``status_of`` asks about it alone, for all its runs at once
            mine = host == here and isinstance(pid, int) and not isinstance(pid, bool)
            if mine and (here, pid, pid_started) in self._dead:
                continue
            if mine and pids is not None and pid not in pids:
                self._dead.add((here, pid, pid_started))
                continue
            if not mine and old:  # a finite heartbeat, older than the staleness
                continue
            kept.append(row)
            if status_of("running", host, pid, pid_started, heartbeat, started, here=here,
                         now=now, stale_after_s=stale_after_s) == "running":
                out += ids
            elif mine:
                self._dead.add((here, pid, pid_started))
                kept.pop()
        if len(kept) < len(rows):  # lost for as long as this read is kept
            with self._scanning:
                scan = self._scan
                if scan is not None and scan[3][0] is rows:
                    self._scan = (*scan[:3], (kept, stored))
        return stored, frozenset(out)

    def prime(self) -> None:
        """Read and decide the runs stored as running now (``alive``): the first page of
        lost runs asked of a server just started waits for it otherwise."""
        self.alive(_RECENT_S)

    def _running(self, stale_after_s: float
                 ) -> tuple[list[tuple[Any, ...]], frozenset[int]]:
        """``_read_running``, kept while the ids and heartbeats of the runs stored as
        running are the same (read from the index ``runs_live``, a few ms), at most
        ``SCAN_TTL_S``, and while the runs it left out are lost for ``stale_after_s``."""
        mark = tuple(self.rows(
            "SELECT count(*), total(id), total(heartbeat_unix_s), max(heartbeat_unix_s)"
            " FROM runs WHERE status = 'running'")[0])
        if not mark[0]:
            return [], frozenset()
        with self._scanning:
            scan = self._scan
            if (scan is None or scan[0] != mark or time.monotonic() - scan[1] > SCAN_TTL_S
                    or scan[2] > time.time() - stale_after_s - 1.0):
                cut = time.time() - max(stale_after_s, _RECENT_S) - 1.0
                scan = self._scan = (mark, time.monotonic(), cut,
                                     self._read_running(cut))
        return scan[3]

    def _read_running(self, cut: float) -> tuple[list[tuple[Any, ...]], frozenset[int]]:
        """The runs stored as running, for ``alive``, in one pass inside SQLite: one row
        per host, pid and its recorded start, with their runs' ids (and whether their
        heartbeat is a finite time before ``cut``), but each run whose heartbeat is not
        has a row of its own; and every id."""
        rows = [(*r[:6], [r[6]] if isinstance(r[6], int) else json.loads(str(r[6])))
                for r in self.rows(
            f"SELECT hostname, pid, pid_started_unix_s, heartbeat_unix_s, started_unix_s,"
            f" {_OLD}, CASE WHEN count(*) = 1 THEN min(id) ELSE json_group_array(id) END"
            " FROM runs WHERE status = 'running'"
            f" GROUP BY hostname, pid, pid_started_unix_s, CASE WHEN {_OLD} THEN NULL"
            " ELSE id END", {"cut": cut})]
        return rows, frozenset(rid for r in rows for rid in r[6])

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

    def peek(self, key: Any, mark: Any) -> tuple[bool, Any]:
        """``(True, value)`` where ``kept`` holds one under ``key`` for ``mark``, else
        ``(False, None)``: nothing is made."""
        got = self._kept.get(key)
        return (True, got[1]) if got is not None and got[0] == mark else (False, None)

    def sample_marks(self, ids: Sequence[int]) -> dict[int, tuple[Any, ...]]:
        """For each of ``ids``: what its partial figures change with (its stored status,
        heartbeat and end, its last sample's time, samples added to it anywhere:
        ``sample_writes``), so that a figure computed from a run's samples is kept while
        they stay the same."""
        return {int(r[0]): (*r[1:], self._writes.generation(int(r[0]))) for r in self.rows(
            "SELECT id, status, heartbeat_unix_s, ended_unix_s, summary_json IS NULL,"
            " (SELECT max(t_unix_s) FROM samples WHERE run_id = runs.id)"
            " FROM runs WHERE id IN (SELECT value FROM json_each(?))", (json.dumps(list(ids)),))}


#: Reads the rows of a query (``server._sql.Reads.rows``, ``Store._read``).
Rows = Callable[[str, tuple[Any, ...]], Sequence[Sequence[Any]]]

#: The clock (seconds, monotonic) that ``resum_epoch`` reads; tests put their own.
clock: Callable[[], float] = time.monotonic


def resum_epoch() -> int:
    """How many ``FULL_RESUM_S`` have passed on ``clock``."""
    return int(clock() // FULL_RESUM_S)


class _Written:
    """``written``'s count for one reader, and when it last asked."""

    def __init__(self) -> None:
        self.check = WriteCheck()
        self.count = 0
        self.lock = threading.Lock()


_WRITTEN: weakref.WeakKeyDictionary[Any, _Written] = weakref.WeakKeyDictionary()
_WRITTEN_LOCK = threading.Lock()


def written(rows: Rows) -> int:
    """A count that grows by one at most once per ``FULL_RESUM_S`` (``resum_epoch``), and
    only where the file ``rows`` reads (its owner: a ``Reads`` or a ``Store``) may have
    been written by another connection since (``records.run_sums.WriteCheck``): a lost
    run's figures kept with it are priced again from the start, so samples another tool
    deleted or edited in place (which no cheap mark sees: a count of a million samples
    takes a second) show within ``FULL_RESUM_S``, as a recording run's do
    (``records.growing_sums``), and a file left alone prices nothing again."""
    owner = getattr(rows, "__self__", rows)
    with _WRITTEN_LOCK:
        got = _WRITTEN.get(owner)
        if got is None:
            got = _WRITTEN[owner] = _Written()
    with got.lock:
        if got.check.due(rows, resum_epoch()):
            got.count += 1
        return got.count


def still_mark(record: Any, rows: Rows) -> tuple[Any, ...] | None:
    """What the partial figures of a run no longer recording depend on (lost, or ended
    without a summary): its row, the bytes of the intensity trace and clean-supply
    profile it is priced from (``files_mark``: a file changed or replaced prices it
    again), and its samples: a dead process adds none, but another tool may delete or
    edit some (``written``, of the file ``rows`` reads: seen within ``FULL_RESUM_S``).
    None while the run is running (it adds samples)."""
    if getattr(record, "status", None) == "running":
        return None
    host = record.host if isinstance(record.host, dict) else {}
    options = host.get("carbon_options")
    return (record.heartbeat_unix_s, record.ended_unix_s, record.pid,
            json.dumps(host, sort_keys=True, default=str),
            json.dumps(record.tags, sort_keys=True, default=str),
            files_mark(options if isinstance(options, dict) else {}), written(rows))


def samples_mark(record: Any, reads: Any) -> tuple[Any, ...] | None:
    """``still_mark`` with the run's samples as ``reads`` (a ``server._sql.Reads``) sees
    them: added anywhere in its span by another tool, seen at once (``sample_writes``),
    as its own page sees them. None while the run is running."""
    mark = still_mark(record, reads.rows)
    return None if mark is None else (*mark, reads.sample_marks([record.id]).get(record.id))


def files_mark(options: dict[str, Any]) -> tuple[Any, ...]:
    """The files a run's carbon options price it from (its intensity trace and
    clean-supply profile), each with the SHA-256 of its bytes as it is now, or None
    where it cannot be read (``carbon.accounting.trace_sha256``, which
    ``carbon.partial.PricingOnce.key`` keys a trace by): equal marks, equal files."""
    out: list[tuple[str, Any, str | None]] = []
    for name in ("intensity_trace", "clean_profile"):
        path = options.get(name)
        if path:
            out.append((name, str(path), _file_sha256(str(path))))
    return tuple(out)


#: ``_file_sha256``'s digests by what ``os.stat`` says of the file.
_SHAS: dict[tuple[Any, ...], str | None] = {}
#: A file changed less than this long ago is hashed again at each call (a rewrite within
#: the file system's time resolution leaves its size and times as they were), in ns.
_SETTLED_NS = 2_000_000_000


def _file_sha256(path: str) -> str | None:
    """``trace_sha256(path)``, read again only where the file's size, times or inode
    changed (a page of 200 lost runs priced on one large trace hashes it once)."""
    from wattwise.carbon.accounting import trace_sha256

    try:
        st = os.stat(path)
    except (OSError, ValueError):
        return None
    key = (path, st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino, st.st_dev)
    if key in _SHAS:
        return _SHAS[key]
    digest = trace_sha256(path)
    if time.time_ns() - max(st.st_mtime_ns, st.st_ctime_ns) > _SETTLED_NS:
        if len(_SHAS) >= 1024:
            _SHAS.clear()
        _SHAS[key] = digest
    return digest


def _process_ids() -> frozenset[int] | None:
    """The ids of every process on this machine now (``psutil.pids``: one read of
    ``/proc`` on Linux), or None where they cannot be read: a recorded pid not among
    them is gone, told without a system call each."""

    try:
        return frozenset(psutil.pids())
    except (psutil.Error, OSError):
        return None
