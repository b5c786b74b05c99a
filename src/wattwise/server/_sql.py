"""Read-only queries for the dashboard that must stay fast on large databases.

``Store`` reads whole records; the dashboard also needs a page of 100,000 runs
(filtered, sorted, counted) and a million samples reduced to a few hundred
buckets. Both are done inside SQLite here, through the read-only handle of
``records.database`` (SQLite's own connections, ``mode=ro``), so the server
never parses every summary or builds a Python object per sample.
"""

from __future__ import annotations

import heapq
import itertools
import json
import math
import re
import sqlite3
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from wattwise.errors import StoreError
from wattwise.records import schema
from wattwise.records.database import ReadOnlyDatabase
from wattwise.records.liveness import hostname, status_of
from wattwise.server.runs_index import (
    BUILD_CHUNK,
    BUILD_PAUSE_S,
    Entry,
    RunsIndex,
    name_of,
    real,
    start_key,
)
from wattwise.server.runs_index import SORTS as SORTS
from wattwise.server.runs_index import STORED_STATUSES as STORED_STATUSES
from wattwise.server.runs_index import RunsQuery as RunsQuery
from wattwise.server.runs_index import json_field as _j

#: How long ``Reads.liveness`` keeps the columns it decides from, in seconds.
LIVE_TTL_S = 2.0
#: A page limit that takes every match (``Reads.live_page`` orders them all).
_ALL = 1 << 62

#: Most runs a name filter may match for the page to be sorted by start from SQLite
#: while the index is being built (each is one lookup by id).
_SQL_MATCHES = 5000

_ROW = (
    "id, name, status, started_unix_s, ended_unix_s, heartbeat_unix_s, hostname,"
    f" {_j('summary_json', '$.energy_j')} AS energy_j,"
    f" {_j('summary_json', '$.low_j')} AS low_j,"
    f" {_j('summary_json', '$.high_j')} AS high_j,"
    f" {_j('summary_json', '$.kind')} AS kind,"
    f" {_j('summary_json', '$.emissions.emissions_g')} AS emissions_g,"
    f" {_j('summary_json', '$.emissions.zone')} AS zone,"
    f" {_j('host_json', '$.hostname')} AS host,"
    " summary_json IS NOT NULL AS has_summary,"
    f" {_j('summary_json', '$.duration_s')} AS summary_duration_s"
)


def _id_of(q: str) -> int:
    """The run id ``q`` may name (-1 where it names none)."""
    return int(q) if q.isascii() and q.isdigit() and len(q) <= 18 else -1


def _name_scan(q: str) -> tuple[str, tuple[Any, ...]]:
    """The names a filter ``q`` may match, read through the covering index ``runs_name``.

    For an ASCII ``q``, SQLite narrows them first: ``LIKE`` folds ASCII letters as
    ``casefold`` does, and every name with a character beyond ASCII (more bytes than
    characters) is kept for Python to fold (``ß`` folds to ``ss``), and so is every name
    not stored as text (another tool's blob); the caller then matches exactly.
    """
    if not q or not q.isascii():
        return "SELECT id, name FROM runs INDEXED BY runs_name", ()
    like = "%" + re.sub(r"([\\%_])", r"\\\1", q) + "%"
    rid = _id_of(q)
    return ("SELECT id, name FROM runs INDEXED BY runs_name WHERE name LIKE ? ESCAPE '\\'"
            " OR length(name) != length(CAST(name AS BLOB)) OR typeof(name) != 'text'"
            " OR id = ?", (like, rid))


class Reads:
    """Aggregating reads of one run database; never writes, never opens the file itself."""

    def __init__(self, path: Path, timeout_s: float = 30.0) -> None:
        self.path = path
        self._timeout_s = timeout_s
        self._db = ReadOnlyDatabase(path, timeout_s)
        self._index = RunsIndex(self.rows)
        self._buckets: dict[tuple[int, float, float, int], list[sqlite3.Row]] = {}
        self._lock = threading.RLock()
        self._sort_indexes = False  # once seen, a writer's migration does not undo them
        #: runs found lost, with the columns they were found lost with: a process that is
        #: gone does not come back, and a heartbeat too old only grows older
        self._lost_seen: dict[int, tuple[Any, ...]] = {}
        self._kept: dict[Any, tuple[Any, Any]] = {}  # ``kept``

    def close(self) -> None:
        self._db.close()

    def rows(self, sql: str, params: tuple[Any, ...] | list[Any] = ()) -> list[sqlite3.Row]:
        """Rows of ``sql``, after this process's own queued writes (as ``Store`` reads)."""
        writer = self._db.same_process_writer()
        if writer is not None and writer.pending_rows:
            writer.drain(self._timeout_s, unless_locked_s=0.25)
        try:
            return self._db.reader(self._timeout_s).execute(sql, params).fetchall()
        except sqlite3.Error as exc:
            raise StoreError(f"run database {self.path}: cannot read: {exc}") from exc

    # -- the runs list ---------------------------------------------------------------
    #
    # The runs index (``runs_index.RunsIndex``) filters, counts and sorts the runs in memory.
    # Building it reads the whole table once (seconds for 100,000 runs), so the server
    # builds it in the background at start-up (``warm``). Until it is complete, a page
    # in start, id or name order, filtered by name or id at most, is answered from
    # SQLite's own indexes (``runs_started``, ``runs_name``, and from schema version 3
    # those on status and each summary figure a page sorts by: the database is opened
    # read-only, so the server creates none); other pages wait for the index.

    def warm(self) -> None:
        """Build the index, every sort order and the metrics' sums now, pausing between
        them so that requests answered meanwhile get the interpreter
        (``runs_index``'s module docstring).

        Before schema version 3, every name, status and start is read first, for the
        name and status filters asked meanwhile. From it, SQLite's indexes answer those
        (and every sort) until the index is complete, so that read is left out: it held
        the interpreter while the first pages of a server just started waited
        (BENCHMARKS.md, "Dashboard at scale")."""
        if not self._has_sort_indexes():
            self._index.early.read()
        self.index()
        self._index.prepare()
        for sort in SORTS:
            if len(self._index.entries) > BUILD_CHUNK:  # a large index: let requests in
                time.sleep(BUILD_PAUSE_S)
            self._index.order(sort)
        self.status_counts()
        self.totals_by_kind()
        self.planned_ids()
        self._index.set_warmed()

    def index(self) -> dict[int, Entry]:
        """Every run by id, brought up to date."""
        return self._index.update()

    def runs_page(self, query: RunsQuery) -> tuple[list[sqlite3.Row], int]:
        """The rows of one page and how many runs match in all."""
        query.check()
        if not self._index.ready(query.sort):
            page = self._page_from_sql(query)
            if page is not None:
                return page
        ids, total = self._index.page(query)
        return self._rows_of(ids), total

    def _page_from_sql(self, query: RunsQuery) -> tuple[list[sqlite3.Row], int] | None:
        """The page as the index would give it, read through SQLite's indexes alone (or
        the names, statuses and starts read first); None where that would scan the table
        (a name filter with a sort by status or a summary figure, or, in a database from
        before schema version 3, any sort by one or a status filter before the statuses
        are read) or a name filter matches too many runs to sort by start
        (``_SQL_MATCHES``)."""
        q = query.q.strip()
        if self._has_sort_indexes():
            if q:
                return self._named_page(query)
            if query.sort in schema.SORT_KEYS:
                return self._indexed_page(query)
            if not query.status:
                return self._name_page(query)
            return None  # a status in name order: most runs may match
        if query.status:
            return self._status_page(query)
        if query.sort not in ("started", "id", "name"):
            return None
        order = "DESC" if query.desc else "ASC"
        if not q and query.sort == "started":
            ids = [int(r[0]) for r in self.rows(
                f"SELECT id FROM runs ORDER BY started_unix_s {order}, id {order}"
                " LIMIT ? OFFSET ?", (query.limit, query.offset))]
            total = int(self.rows("SELECT count(*) FROM runs")[0][0])
        elif not q and query.sort == "id":
            ids = [int(r[0]) for r in self.rows(
                f"SELECT id FROM runs ORDER BY id {order} LIMIT ? OFFSET ?",
                (query.limit, query.offset))]
            total = int(self.rows("SELECT count(*) FROM runs")[0][0])
        else:
            # every name through the covering index (no summary is read), matched and
            # folded as the index does
            folded = q.casefold()
            early = self._index.early.matches(folded) if q else None
            if early is not None:  # the names read first (``runs_index.EarlyNames``)
                found, last_id = early
                named = [(f, rid) for f, rid in found if folded in f] + [
                    (name_of(r[1]).casefold(), int(r[0])) for r in self.rows(
                        "SELECT id, name FROM runs WHERE id > ? OR id = ?",
                        (last_id, _id_of(q)))]
            else:
                named = [(name_of(r[1]).casefold(), int(r[0]))
                         for r in self.rows(*_name_scan(q))]
            if q:
                named = [(f, rid) for f, rid in dict.fromkeys(named)
                         if folded in f or (q.isdigit() and str(rid) == q)]
            if query.sort == "name":
                named.sort(reverse=query.desc)
                matching = [rid for _, rid in named]
            elif query.sort == "id":
                matching = sorted((rid for _, rid in named), reverse=query.desc)
            else:
                if len(named) > _SQL_MATCHES:
                    return None
                matching = self._by_start([rid for _, rid in named], query.desc)
            ids, total = matching[query.offset : query.offset + query.limit], len(matching)
        return self._rows_of(ids), total

    def _has_sort_indexes(self) -> bool:
        """Whether the database has the indexes of schema version 3 (an older one is read
        as it is, and its pages sorted by a summary figure wait for the runs index)."""
        if not self._sort_indexes:
            names = {str(r[0]) for r in self.rows(
                "SELECT name FROM sqlite_master WHERE type = 'index'")}
            self._sort_indexes = set(schema.SORT_INDEXES) <= names
        return self._sort_indexes

    def _indexed_page(self, query: RunsQuery) -> tuple[list[sqlite3.Row], int]:
        """A page with no name filter, in any order but by name, through the indexes of
        schema version 3, as the runs index orders it: by the key then id, and the runs
        without a value for it (``schema.VALUED``) after them, by id."""
        key, valued = schema.SORT_KEYS[query.sort], schema.VALUED.get(query.sort)
        order = "DESC" if query.desc else "ASC"
        where, params = ("status = ?", ("running" if query.status == "lost"
                                        else query.status,)) if query.status else ("1", ())
        total = int(self.rows(f"SELECT count(*) FROM runs WHERE {where}", params)[0][0])
        n_valued = total if valued is None else int(self.rows(
            f"SELECT count(*) FROM runs WHERE {where} AND {valued}", params)[0][0])
        ids: list[int] = []
        if query.offset < n_valued:
            ids = [int(r[0]) for r in self.rows(
                f"SELECT id FROM runs WHERE {where} AND {valued or '1'}"
                f" ORDER BY {key} {order}, id {order} LIMIT ? OFFSET ?",
                (*params, query.limit, query.offset))]
        if valued is not None and len(ids) < query.limit and n_valued < total:
            ids += [int(r[0]) for r in self.rows(
                f"SELECT id FROM runs WHERE {where} AND {schema.MISSING[query.sort]}"
                f" ORDER BY id {order} LIMIT ? OFFSET ?",
                (*params, query.limit - len(ids), max(0, query.offset - n_valued)))]
        return self._rows_of(ids), total

    def _named_page(self, query: RunsQuery) -> tuple[list[sqlite3.Row], int] | None:
        """A page filtered by name or id (and status), from schema version 3: the names
        through the covering index ``runs_name``, then, where the page is not in name or
        id order of every match, each match's status and sort key by id (None where more
        than ``_SQL_MATCHES`` runs match)."""
        q = query.q.strip()
        folded = q.casefold()
        named = [(f, rid) for f, rid in dict.fromkeys(
            (name_of(r[1]).casefold(), int(r[0])) for r in self.rows(*_name_scan(q)))
            if folded in f or (q.isdigit() and str(rid) == q)]
        if not query.status and query.sort == "name":
            named.sort(reverse=query.desc)
            matching = [rid for _, rid in named]
        elif not query.status and query.sort == "id":
            matching = sorted((rid for _, rid in named), reverse=query.desc)
        elif len(named) > _SQL_MATCHES:
            return None
        else:
            matching = self._by_key(named, query)
        ids = matching[query.offset : query.offset + query.limit]
        return self._rows_of(ids), len(matching)

    def _by_key(self, named: list[tuple[str, int]], query: RunsQuery) -> list[int]:
        """The ids of ``named`` (folded name, id) of the query's status, in its order as
        the runs index has it: by the key then id, those without a value last by id."""
        folded_of = dict((rid, f) for f, rid in named)
        key = schema.SORT_KEYS.get(query.sort, "NULL")
        valued = schema.VALUED.get(query.sort, "1")
        want = "running" if query.status == "lost" else query.status
        have: list[tuple[Any, int]] = []
        none: list[int] = []
        ids = list(folded_of)
        for k in range(0, len(ids), 500):
            chunk = ids[k : k + 500]
            for r in self.rows(f"SELECT id, status, {key}, {valued} FROM runs WHERE id IN"
                               f" ({', '.join('?' * len(chunk))})", chunk):
                rid = int(r[0])
                if want and str(r[1]) != want:
                    continue
                if query.sort == "name":
                    have.append((folded_of[rid], rid))
                elif query.sort == "started":
                    have.append((start_key(r[2]), rid))
                elif query.sort == "status":
                    have.append((str(r[1]), rid))
                elif r[3]:
                    have.append((float(r[2]), rid))
                else:
                    none.append(rid)
        have.sort(reverse=query.desc)
        none.sort(reverse=query.desc)
        return [rid for _, rid in have] + none

    def _name_page(self, query: RunsQuery) -> tuple[list[sqlite3.Row], int]:
        """A page of every run by name without case, then id, as the runs index orders it:
        the ASCII names through ``runs_name_nocase`` (SQLite's NOCASE folds them as
        ``casefold`` does), merged with the others, folded here (``ß`` folds to ``ss``:
        SQLite would not)."""
        order = "DESC" if query.desc else "ASC"
        ascii_ = "typeof(name) = 'text' AND length(name) = length(CAST(name AS BLOB))"
        want = query.offset + query.limit
        plain = [(str(r[1]).lower(), int(r[0])) for r in self.rows(
            f"SELECT id, name FROM runs INDEXED BY runs_name_nocase WHERE {ascii_}"
            f" ORDER BY name COLLATE NOCASE {order}, id {order} LIMIT ?", (want,))]
        other = sorted(((name_of(r[1]).casefold(), int(r[0])) for r in self.rows(
            f"SELECT id, name FROM runs INDEXED BY runs_name WHERE NOT ({ascii_})")),
            reverse=query.desc)
        merged = heapq.merge(plain, other, reverse=query.desc)
        ids = [rid for _, rid in itertools.islice(merged, query.offset, want)]
        return self._rows_of(ids), int(self.rows("SELECT count(*) FROM runs")[0][0])

    def _status_page(self, query: RunsQuery) -> tuple[list[sqlite3.Row], int] | None:
        """A page filtered by status (and name), in start or id order, from the statuses
        and starts read first (``runs_index.EarlyNames``); None before they are read."""
        if query.sort not in ("started", "id"):
            return None
        self._index.early.wait_statuses(self._timeout_s)
        early = self._index.early.statuses
        q = query.q.strip()
        if early is None:
            return None
        named = self._index.early.matches(q.casefold()) if q else None
        if q and named is None:  # the names are not read yet: scanned here
            named = ([(f, rid) for f, rid in ((name_of(r[1]).casefold(), int(r[0]))
                                             for r in self.rows(*_name_scan(q)))
                      if q.casefold() in f], early[4])
        by_id, by_start, status_of, start_of, last_id = early
        want = "running" if query.status == "lost" else query.status
        later = self.rows("SELECT id, status, started_unix_s, name FROM runs WHERE id > ?",
                          (min(last_id, named[1] if named else last_id),))
        names = {rid for _, rid in named[0]} if named else set()
        folded, rid_q = q.casefold(), _id_of(q) if q == str(_id_of(q)) else -1
        for r in later:
            if folded in name_of(r[3]).casefold():
                names.add(int(r[0]))
        if rid_q in status_of or any(int(r[0]) == rid_q for r in later):
            names.add(rid_q)
        chain = by_start if query.sort == "started" else by_id
        matching = [rid for rid in chain if status_of[rid] == want and (not q or rid in names)]
        extra = [(start_key(r[2]) if query.sort == "started" else 0, int(r[0])) for r in later
                 if int(r[0]) > last_id and str(r[1]) == want and (not q or int(r[0]) in names)]
        if extra:  # runs added since: placed among the others
            keyed = [(start_of[rid] if query.sort == "started" else 0, rid) for rid in matching]
            matching = [rid for _, rid in sorted(keyed + extra)]
        if query.desc:
            matching.reverse()
        return self._rows_of(matching[query.offset : query.offset + query.limit]), len(matching)

    def _by_start(self, ids: list[int], desc: bool) -> list[int]:
        keyed: list[tuple[float, int]] = []
        for k in range(0, len(ids), 500):
            chunk = ids[k : k + 500]
            keyed += [(real(r[1]) or 0.0, int(r[0])) for r in self.rows(
                "SELECT id, started_unix_s FROM runs WHERE id IN"
                f" ({', '.join('?' * len(chunk))})", chunk)]
        keyed.sort(reverse=desc)
        return [rid for _, rid in keyed]

    def _rows_of(self, ids: list[int]) -> list[sqlite3.Row]:
        by_id = {int(r["id"]): r for r in self.rows(
            f"SELECT {_ROW} FROM runs WHERE id IN ({', '.join('?' * len(ids))})", ids)} \
            if ids else {}
        return [by_id[i] for i in ids if i in by_id]

    def planned_ids(self) -> list[int]:
        """Ids of the runs a plan started, newest first (from the index)."""
        return self._index.planned_ids()

    def status_counts(self) -> dict[str, int]:
        """How many runs are stored with each status."""
        return self._index.status_counts()

    def running_ids(self, limit: int) -> list[int]:
        """Ids of runs stored as running, newest first (some may be lost)."""
        return self._index.running_ids(limit)

    # -- running or lost -------------------------------------------------------------
    #
    # A run stored as running is ``lost`` once its process is gone (``records.liveness``).
    # After many killed jobs thousands are: each is decided from a few columns, read in one
    # query, never from its whole record (which took 8-14 s for 20,000 of 100,000 runs).

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

    def live_page(self, query: RunsQuery, stale_after_s: float
                  ) -> tuple[list[sqlite3.Row], int]:
        """One page of the runs ``running`` or ``lost`` now (``query.status``) and how many
        in all, in the query's order: every run stored as running that the query's name
        filter selects, in that order (ids alone), decided by ``liveness``; the rows of
        the page alone are read."""
        query.check()
        if query.status not in ("running", "lost"):
            return self.runs_page(query)
        every = replace(query, status="running", offset=0, limit=_ALL)
        ordered: list[int] | None = None
        if not self._index.ready(query.sort):  # as ``runs_page``: SQLite's indexes first
            got = self._page_from_sql(every)
            ordered = None if got is None else [int(r["id"]) for r in got[0]]
        if ordered is None:
            ordered, _ = self._index.page(every)
        status = self.liveness(ordered, stale_after_s)
        matching = [rid for rid in ordered if status.get(rid) == query.status]
        return (self._rows_of(matching[query.offset : query.offset + query.limit]),
                len(matching))

    def sample_marks(self, ids: Sequence[int]) -> dict[int, tuple[Any, ...]]:
        """For each of ``ids``: what its partial figures change with (its stored status,
        heartbeat and end, its last sample's time), so that a figure computed from a
        run's samples is kept while they stay the same."""
        return {int(r[0]): tuple(r[1:]) for r in self.rows(
            "SELECT id, status, heartbeat_unix_s, ended_unix_s, summary_json IS NULL,"
            " (SELECT max(t_unix_s) FROM samples WHERE run_id = runs.id)"
            " FROM runs WHERE id IN (SELECT value FROM json_each(?))", (json.dumps(list(ids)),))}

    def newest_ids(self, limit: int, *, finished_only: bool = False) -> list[int]:
        """Ids of the newest runs (with a summary only, if ``finished_only``)."""
        where = "WHERE summary_json IS NOT NULL" if finished_only else ""
        return [int(r[0]) for r in self.rows(
            f"SELECT id FROM runs {where} ORDER BY started_unix_s DESC, id DESC LIMIT ?",
            (limit,))]

    def totals_by_kind(self) -> dict[str, tuple[float, float, int]]:
        """Energy, emissions and how many runs, summed over every run that has ended,
        by the run's kind (a figure that is not a number counts as nothing)."""
        return self._index.totals_by_kind()

    # -- samples ---------------------------------------------------------------------

    def energy_so_far(self, run_id: int) -> dict[str, dict[str, float]]:
        """Per domain: energy, low and high of the samples read, how many, the time of the
        last and its power (gaps left out): ``carbon.partial.sample_sums`` inside SQLite."""
        out: dict[str, dict[str, float]] = {}
        for r in self.rows(
            "SELECT domain, total(energy_j), total(low_j), total(high_j), count(*),"
            " max(t_unix_s) FROM samples WHERE run_id = ? AND gap = 0 GROUP BY domain",
            (run_id,)):
            out[str(r[0])] = {"energy_j": r[1], "low_j": r[2], "high_j": r[3],
                              "samples": float(r[4]), "last_unix_s": r[5]}
        for r in self.rows(
            "SELECT domain, power_w FROM samples s WHERE run_id = ? AND gap = 0"
            " AND t_unix_s = (SELECT max(t_unix_s) FROM samples"
            "  WHERE run_id = s.run_id AND domain = s.domain AND gap = 0)", (run_id,)):
            if str(r[0]) in out:
                out[str(r[0])]["power_w"] = r[1]
        return out

    def buckets(self, run_id: int, t0: float, width_s: float, samples: int = -1
                ) -> list[sqlite3.Row]:
        """Samples summed into buckets of ``width_s`` from ``t0``, per domain, in time order.

        Each row: domain, bucket, samples, last time, energy (gaps excluded), whether a
        gap fell in it, the lowest and highest sampled power in it, and when its
        earliest sample's interval began (``t - energy / power``: a domain's first
        sample covers the time since the sensor's first read, not since the run's row
        was written). Kept for the same run, width and number of ``samples`` (a run
        that ended no longer changes; one still recording has more samples each
        time): a million samples take seconds to sum.
        """
        key = (run_id, t0, width_s, samples)
        with self._lock:
            if samples >= 0 and key in self._buckets:
                return self._buckets[key]
        rows = self._sum_buckets(run_id, t0, width_s)
        if samples >= 0:
            with self._lock:
                while len(self._buckets) >= 16:
                    self._buckets.pop(next(iter(self._buckets)))
                self._buckets[key] = rows
        return rows

    def _sum_buckets(self, run_id: int, t0: float, width_s: float) -> list[sqlite3.Row]:
        return self.rows(
            "SELECT domain, CAST((t_unix_s - ?) / ? AS INTEGER) AS b, count(*) AS n,"
            " max(t_unix_s) AS t_last,"
            " total(CASE WHEN gap = 0 THEN energy_j END) AS energy_j,"
            " max(gap) AS gap,"
            " min(CASE WHEN gap = 0 THEN power_w END) AS min_w,"
            " max(CASE WHEN gap = 0 THEN power_w END) AS max_w,"
            " min(CASE WHEN gap = 0 AND energy_j > 0 AND power_w > 0"
            "     THEN t_unix_s - energy_j / power_w END) AS t_begin"
            " FROM samples WHERE run_id = ? GROUP BY domain, b ORDER BY domain, b",
            (t0, width_s, run_id),
        )
