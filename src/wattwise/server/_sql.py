"""Read-only queries for the dashboard that must stay fast on large databases.

``Store`` reads whole records; the dashboard also needs a page of 100,000 runs
(filtered, sorted, counted) and a million samples reduced to a few hundred
buckets. Both are done inside SQLite here, through the read-only handle of
``records.database`` (SQLite's own connections, ``mode=ro``), so the server
never parses every summary or builds a Python object per sample.
"""

from __future__ import annotations

import itertools
import math
import operator
import re
import sqlite3
import sys
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from wattwise.errors import BadInput, StoreError
from wattwise.records.database import ReadOnlyDatabase

#: Sort keys of the runs list.
SORTS = ("started", "id", "name", "status", "duration", "energy", "emissions")
#: Most runs a name filter may match for the page to be sorted by start from SQLite
#: while the index is being built (each is one lookup by id).
_SQL_MATCHES = 5000
#: Statuses as stored; ``lost`` is a ``running`` run whose process is gone.
STORED_STATUSES = ("running", "finished", "failed", "interrupted")

def _j(column: str, path: str) -> str:
    """``column ->> path``, or NULL where the stored text is not JSON: one malformed row
    (a hand edit, another tool) must not fail every query that reads the runs."""
    return f"CASE WHEN json_valid({column}) THEN {column} ->> '{path}' END"


#: What the runs index holds of each run: a few columns and figures of its summary.
_ENTRY = (
    "id, status, name, started_unix_s, coalesce(ended_unix_s, heartbeat_unix_s),"
    f" {_j('summary_json', '$.kind')}, {_j('summary_json', '$.energy_j')},"
    f" {_j('summary_json', '$.emissions.emissions_g')}, {_j('summary_json', '$.duration_s')},"
    f" {_j('tags_json', '$.planned_start_unix_s')} IS NOT NULL,"
    f" {_j('summary_json', '$.summary_of')} IS NOT NULL"
)
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


@dataclass(frozen=True)
class Entry:
    """One run as the runs list filters and sorts it and the metrics sum it."""

    status: str
    name: str
    started_unix_s: float
    duration_s: float | None
    kind: str | None
    energy_j: float | None
    emissions_g: float | None
    #: ``name.casefold()``, kept so a filter does not fold 100,000 names per request.
    folded: str = ""
    #: Started by a plan (``plan --run``, ``defer``): tagged ``planned_start_unix_s``.
    planned: bool = False
    #: A stored study or tuning: its energy sums other runs', so totals leave it out.
    summarises: bool = False

    def key(self, sort: str) -> Any:
        """The value ``sort`` orders by; None sorts last either way."""
        if sort == "started":
            return self.started_unix_s
        if sort == "name":
            return self.folded
        if sort == "status":
            return self.status
        if sort == "duration":
            return self.duration_s
        if sort == "energy":
            return self.energy_j
        if sort == "emissions":
            return self.emissions_g
        return 0  # "id": the tie-break alone


#: The ``Entry`` field each sort orders by (as ``Entry.key``).
_SORT_FIELDS = {"started": "started_unix_s", "name": "folded", "status": "status",
                "duration": "duration_s", "energy": "energy_j", "emissions": "emissions_g"}


def _name_scan(q: str) -> tuple[str, tuple[Any, ...]]:
    """The names a filter ``q`` may match, read through the covering index ``runs_name``.

    For an ASCII ``q``, SQLite narrows them first: ``LIKE`` folds ASCII letters as
    ``casefold`` does, and every name with a character beyond ASCII (more bytes than
    characters) is kept for Python to fold (``ß`` folds to ``ss``); the caller then
    matches exactly.
    """
    if not q or not q.isascii():
        return "SELECT id, name FROM runs INDEXED BY runs_name", ()
    like = "%" + re.sub(r"([\\%_])", r"\\\1", q) + "%"
    rid = int(q) if q.isdigit() and len(q) <= 18 else -1
    return ("SELECT id, name FROM runs INDEXED BY runs_name WHERE name LIKE ? ESCAPE '\\'"
            " OR length(name) != length(CAST(name AS BLOB)) OR id = ?", (like, rid))


def _real(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if math.isfinite(value) else None


def _start_key(value: Any) -> float:
    """A stored start time as SQLite orders it, so the index pages as the pages read
    through SQLite do: +Inf after every finite number, text (or a blob) after that."""
    if isinstance(value, (str, bytes)):
        return math.inf
    if isinstance(value, bool) or not isinstance(value, (int, float)) or math.isnan(value):
        return 0.0
    return min(float(value), sys.float_info.max)


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


@dataclass(frozen=True)
class RunsQuery:
    """One page of the runs list: a filter, an order and a window into the result."""

    limit: int = 50
    offset: int = 0
    #: Part of the name (case-insensitive), or a run id.
    q: str = ""
    #: A stored status; ``running`` and ``lost`` both select runs stored as running.
    status: str = ""
    sort: str = "started"
    desc: bool = True

    def check(self) -> RunsQuery:
        if self.sort not in SORTS:
            raise BadInput(f"sort must be one of {', '.join(SORTS)}, got {self.sort!r}")
        if self.status and self.status not in (*STORED_STATUSES, "lost"):
            raise BadInput(f"no status {self.status!r}")
        return self

    def matches(self, rid: int, e: Entry) -> bool:
        if self.status and e.status != ("running" if self.status == "lost" else self.status):
            return False
        q = self.q.strip()
        return not q or q.casefold() in e.folded or (q.isdigit() and str(rid) == q)


class RunsIndex:
    """Every run of one database by id: a few columns and summary figures, its sort
    orders and the metrics' sums, kept in memory.

    A run that has ended does not change again, so each ``update`` reads only new
    runs and those still running, by rowid. Filtering, counting and sorting 100,000
    runs in SQLite would scan the table (and parse every summary's JSON) on every
    request. ``rows`` runs one query (``Reads.rows``).
    """

    def __init__(self, rows: Callable[[str, tuple[Any, ...] | list[Any]], list[sqlite3.Row]]
                 ) -> None:
        self._rows = rows
        self.entries: dict[int, Entry] = {}
        self.open: set[int] = set()  # stored as running at the last look
        self.orders: dict[str, tuple[list[int], list[int]]] = {}
        self._sums: dict[str, Any] = {}  # status counts and totals, until the index changes
        self._seen_id = 0
        self._lock = threading.RLock()
        #: Set once the index holds every run: until then, ``Reads`` answers the pages
        #: SQLite can answer from its own indexes that way (``Reads._page_from_sql``).
        self.built = threading.Event()

    def update(self) -> dict[int, Entry]:
        """Every run by id, brought up to date."""
        with self._lock:
            rows = self._rows(f"SELECT {_ENTRY} FROM runs WHERE id > ?", (self._seen_id,))
            still = sorted(self.open)
            for k in range(0, len(still), 500):
                chunk = still[k : k + 500]
                rows += self._rows(
                    f"SELECT {_ENTRY} FROM runs WHERE id IN ({', '.join('?' * len(chunk))})",
                    chunk)
            changed = False
            for r in rows:
                rid = int(r[0])
                started = _start_key(r[3])
                last = _real(r[4])
                name = r[2].decode("utf-8", "replace") if isinstance(r[2], bytes) else str(r[2])
                # the measured window's length where the run has a summary (as Store)
                measured = _real(r[8])
                duration = (measured if measured is not None and measured >= 0
                            else None if last is None or not math.isfinite(started)
                            else max(0.0, last - started))
                entry = Entry(str(r[1]), name, started, duration,
                              _str(r[5]), _real(r[6]), _real(r[7]), name.casefold(),
                              bool(r[9]), bool(r[10]))
                self._seen_id = max(self._seen_id, rid)
                if self.entries.get(rid) != entry:
                    self.entries[rid] = entry
                    changed = True
                if entry.status == "running":
                    self.open.add(rid)
                else:
                    self.open.discard(rid)
            if changed:
                self.orders.clear()
                self._sums.clear()
            self.built.set()
            return self.entries

    def order(self, sort: str) -> tuple[list[int], list[int]]:
        """Ids ascending by ``sort`` (ties by id), and those without a value; cached until
        the index changes."""
        entries = self.update()
        with self._lock:
            if sort not in self.orders:
                field = _SORT_FIELDS.get(sort)
                if field is None:  # "id": the tie-break alone
                    keyed = [(0, rid) for rid in entries]
                else:
                    get = operator.attrgetter(field)
                    keyed = [(get(e), rid) for rid, e in entries.items()]
                valued = sorted((k, rid) for k, rid in keyed if k is not None)
                missing = sorted(rid for k, rid in keyed if k is None)
                self.orders[sort] = ([rid for _, rid in valued], missing)
            return self.orders[sort]

    def planned_ids(self) -> list[int]:
        """Ids of the runs a plan started, newest first."""
        entries = self.update()
        with self._lock:
            if "planned" not in self._sums:
                self._sums["planned"] = sorted(
                    (rid for rid, e in entries.items() if e.planned),
                    key=lambda i: (entries[i].started_unix_s, i), reverse=True)
            return list(self._sums["planned"])

    def status_counts(self) -> dict[str, int]:
        """How many runs are stored with each status."""
        entries = self.update()
        with self._lock:
            if "status_counts" not in self._sums:
                counts: dict[str, int] = {}
                for e in entries.values():
                    counts[e.status] = counts.get(e.status, 0) + 1
                self._sums["status_counts"] = counts
            return dict(self._sums["status_counts"])

    def running_ids(self, limit: int) -> list[int]:
        """Ids of runs stored as running, newest first (some may be lost)."""
        entries = self.update()
        with self._lock:
            live = sorted(self.open, key=lambda i: (entries[i].started_unix_s, i),
                          reverse=True)
        return live[:limit]

    def totals_by_kind(self) -> dict[str, tuple[float, float, int]]:
        """Energy, emissions and how many runs, summed over every run that has ended,
        by the run's kind (a figure that is not a number counts as nothing)."""
        entries = self.update()
        with self._lock:
            if "totals" not in self._sums:
                out: dict[str, tuple[float, float, int]] = {}
                for e in entries.values():
                    if e.status == "running" or e.summarises:
                        continue
                    kind = e.kind or "unknown"
                    joules, grams, n = out.get(kind, (0.0, 0.0, 0))
                    out[kind] = (joules + (e.energy_j or 0.0), grams + (e.emissions_g or 0.0),
                                 n + 1)
                self._sums["totals"] = out
            return dict(self._sums["totals"])


class Reads:
    """Aggregating reads of one run database; never writes, never opens the file itself."""

    def __init__(self, path: Path, timeout_s: float = 30.0) -> None:
        self.path = path
        self._timeout_s = timeout_s
        self._db = ReadOnlyDatabase(path, timeout_s)
        self._index = RunsIndex(self.rows)
        self._buckets: dict[tuple[int, float, float, int], list[sqlite3.Row]] = {}
        self._lock = threading.RLock()

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
    # The runs index (``RunsIndex``) filters, counts and sorts the runs in memory.
    # Building it reads the whole table once (seconds for 100,000 runs), so the server
    # builds it in the background at start-up (``warm``). Until it is complete, a page
    # in start, id or name order, filtered by name or id at most, is answered from
    # SQLite's own indexes (``runs_started``, ``runs_name``: the database is opened
    # read-only, so the server creates none); other pages wait for the index.

    def warm(self) -> None:
        """Build the index, every sort order and the metrics' sums now."""
        self.index()
        for sort in SORTS:
            self._index.order(sort)
        self.status_counts()
        self.totals_by_kind()
        self.planned_ids()

    def index(self) -> dict[int, Entry]:
        """Every run by id, brought up to date."""
        return self._index.update()

    def runs_page(self, query: RunsQuery) -> tuple[list[sqlite3.Row], int]:
        """The rows of one page and how many runs match in all."""
        query.check()
        if not self._index.built.is_set():
            page = self._page_from_sql(query)
            if page is not None:
                return page
        valued, missing = self._index.order(query.sort)
        entries = self._index.entries
        ordered: Iterable[int] = (
            itertools.chain(reversed(valued), reversed(missing)) if query.desc
            else itertools.chain(valued, missing))
        if query.q.strip() or query.status:
            matching = [rid for rid in ordered if query.matches(rid, entries[rid])]
        else:
            matching = list(ordered)
        ids = matching[query.offset : query.offset + query.limit]
        return self._rows_of(ids), len(matching)

    def _page_from_sql(self, query: RunsQuery) -> tuple[list[sqlite3.Row], int] | None:
        """The page as the index would give it, read through SQLite's indexes alone; None
        where that would scan the table (a status filter, a sort by a summary figure) or
        a name filter matches too many runs to sort by start (``_SQL_MATCHES``)."""
        if query.status or query.sort not in ("started", "id", "name"):
            return None
        q = query.q.strip()
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
            named = [(str(r[1]).casefold(), int(r[0])) for r in self.rows(*_name_scan(q))]
            if q:
                named = [(f, rid) for f, rid in named
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

    def _by_start(self, ids: list[int], desc: bool) -> list[int]:
        keyed: list[tuple[float, int]] = []
        for k in range(0, len(ids), 500):
            chunk = ids[k : k + 500]
            keyed += [(_real(r[1]) or 0.0, int(r[0])) for r in self.rows(
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
