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
import sqlite3
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from wattwise.errors import BadInput, StoreError
from wattwise.records.database import ReadOnlyDatabase

#: Sort keys of the runs list.
SORTS = ("started", "id", "name", "status", "duration", "energy", "emissions")
#: Statuses as stored; ``lost`` is a ``running`` run whose process is gone.
STORED_STATUSES = ("running", "finished", "failed", "interrupted")

#: What the runs index holds of each run: a few columns and figures of its summary.
_ENTRY = (
    "id, status, name, started_unix_s, coalesce(ended_unix_s, heartbeat_unix_s),"
    " summary_json ->> '$.kind', summary_json ->> '$.energy_j',"
    " summary_json ->> '$.emissions.emissions_g', summary_json ->> '$.duration_s'"
)
_ROW = (
    "id, name, status, started_unix_s, ended_unix_s, heartbeat_unix_s, hostname,"
    " summary_json ->> '$.energy_j' AS energy_j,"
    " summary_json ->> '$.low_j' AS low_j,"
    " summary_json ->> '$.high_j' AS high_j,"
    " summary_json ->> '$.kind' AS kind,"
    " summary_json ->> '$.emissions.emissions_g' AS emissions_g,"
    " summary_json ->> '$.emissions.zone' AS zone,"
    " host_json ->> '$.hostname' AS host,"
    " summary_json IS NOT NULL AS has_summary,"
    " summary_json ->> '$.duration_s' AS summary_duration_s"
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


def _real(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if math.isfinite(value) else None


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


class Reads:
    """Aggregating reads of one run database; never writes, never opens the file itself."""

    def __init__(self, path: Path, timeout_s: float = 30.0) -> None:
        self.path = path
        self._timeout_s = timeout_s
        self._db = ReadOnlyDatabase(path, timeout_s)
        self._entries: dict[int, Entry] = {}
        self._open: set[int] = set()  # stored as running at the last look
        self._orders: dict[str, tuple[list[int], list[int]]] = {}
        self._sums: dict[str, Any] = {}  # status counts and totals, until the index changes
        self._buckets: dict[tuple[int, float, float, int], list[sqlite3.Row]] = {}
        self._seen_id = 0
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
    # An index of every run (a few columns and summary figures) is kept in memory: a run
    # that has ended does not change again, so each request reads only new runs and
    # those still running, by rowid. Filtering, counting and sorting 100,000 runs in
    # SQLite would scan the table (and parse every summary's JSON) on every request.

    def index(self) -> dict[int, Entry]:
        """Every run by id, brought up to date."""
        with self._lock:
            rows = self.rows(f"SELECT {_ENTRY} FROM runs WHERE id > ?", (self._seen_id,))
            still = sorted(self._open)
            for k in range(0, len(still), 500):
                chunk = still[k : k + 500]
                rows += self.rows(
                    f"SELECT {_ENTRY} FROM runs WHERE id IN ({', '.join('?' * len(chunk))})",
                    chunk)
            changed = False
            for r in rows:
                rid = int(r[0])
                started = _real(r[3]) or 0.0
                last = _real(r[4])
                name = str(r[2])
                # the measured window's length where the run has a summary (as Store)
                measured = _real(r[8])
                duration = (measured if measured is not None and measured >= 0
                            else None if last is None else max(0.0, last - started))
                entry = Entry(str(r[1]), name, started, duration,
                              _str(r[5]), _real(r[6]), _real(r[7]), name.casefold())
                self._seen_id = max(self._seen_id, rid)
                if self._entries.get(rid) != entry:
                    self._entries[rid] = entry
                    changed = True
                if entry.status == "running":
                    self._open.add(rid)
                else:
                    self._open.discard(rid)
            if changed:
                self._orders.clear()
                self._sums.clear()
            return self._entries

    def _order(self, sort: str) -> tuple[list[int], list[int]]:
        """Ids ascending by ``sort`` (ties by id), and those without a value; cached until
        the index changes."""
        entries = self.index()
        with self._lock:
            if sort not in self._orders:
                keyed = [(e.key(sort), rid) for rid, e in entries.items()]
                valued = sorted((k, rid) for k, rid in keyed if k is not None)
                missing = sorted(rid for k, rid in keyed if k is None)
                self._orders[sort] = ([rid for _, rid in valued], missing)
            return self._orders[sort]

    def runs_page(self, query: RunsQuery) -> tuple[list[sqlite3.Row], int]:
        """The rows of one page and how many runs match in all."""
        query.check()
        valued, missing = self._order(query.sort)
        entries = self._entries
        ordered: Iterable[int] = (
            itertools.chain(reversed(valued), reversed(missing)) if query.desc
            else itertools.chain(valued, missing))
        if query.q.strip() or query.status:
            matching = [rid for rid in ordered if query.matches(rid, entries[rid])]
        else:
            matching = list(ordered)
        ids = matching[query.offset : query.offset + query.limit]
        by_id = {int(r["id"]): r for r in self.rows(
            f"SELECT {_ROW} FROM runs WHERE id IN ({', '.join('?' * len(ids))})", ids)} \
            if ids else {}
        return [by_id[i] for i in ids if i in by_id], len(matching)

    def status_counts(self) -> dict[str, int]:
        """How many runs are stored with each status."""
        entries = self.index()
        with self._lock:
            if "status_counts" not in self._sums:
                counts: dict[str, int] = {}
                for e in entries.values():
                    counts[e.status] = counts.get(e.status, 0) + 1
                self._sums["status_counts"] = counts
            return dict(self._sums["status_counts"])

    def running_ids(self, limit: int) -> list[int]:
        """Ids of runs stored as running, newest first (some may be lost)."""
        entries = self.index()
        with self._lock:
            live = sorted(self._open, key=lambda i: (entries[i].started_unix_s, i),
                          reverse=True)
        return live[:limit]

    def newest_ids(self, limit: int, *, finished_only: bool = False) -> list[int]:
        """Ids of the newest runs (with a summary only, if ``finished_only``)."""
        where = "WHERE summary_json IS NOT NULL" if finished_only else ""
        return [int(r[0]) for r in self.rows(
            f"SELECT id FROM runs {where} ORDER BY started_unix_s DESC, id DESC LIMIT ?",
            (limit,))]

    def totals_by_kind(self) -> dict[str, tuple[float, float, int]]:
        """Energy, emissions and how many runs, summed over every run that has ended,
        by the run's kind (a figure that is not a number counts as nothing)."""
        entries = self.index()
        with self._lock:
            if "totals" not in self._sums:
                out: dict[str, tuple[float, float, int]] = {}
                for e in entries.values():
                    if e.status == "running":
                        continue
                    kind = e.kind or "unknown"
                    joules, grams, n = out.get(kind, (0.0, 0.0, 0))
                    out[kind] = (joules + (e.energy_j or 0.0), grams + (e.emissions_g or 0.0),
                                 n + 1)
                self._sums["totals"] = out
            return dict(self._sums["totals"])

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

    def sample_span(self, run_id: int) -> tuple[int, float | None]:
        """How many samples the run has and the time of its last one."""
        row = self.rows(
            "SELECT count(*), max(t_unix_s) FROM samples WHERE run_id = ?", (run_id,))[0]
        return int(row[0]), (None if row[1] is None else float(row[1]))

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
