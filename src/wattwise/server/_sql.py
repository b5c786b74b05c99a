"""Read-only queries for the dashboard that must stay fast on large databases.

``Store`` reads whole records; the dashboard also needs a page of 100,000 runs
(filtered, sorted, counted) and a million samples reduced to a few hundred
buckets. Both are done inside SQLite here, through the read-only handle of
``records.database`` (SQLite's own connections, ``mode=ro``), so the server
never parses every summary or builds a Python object per sample.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

from wattwise._finite import exact_sum
from wattwise.records import growing_sums
from wattwise.records.database import ReadOnlyDatabase
from wattwise.records.read_wait import executed
from wattwise.records.stored_json import readable
from wattwise.server._live import LiveRuns
from wattwise.server._sql_pages import SqlPages
from wattwise.server.kept_buckets import KeptBuckets
from wattwise.server.notes_later import LaterNotes, Ticket
from wattwise.server.runs_index import (
    BUILD_CHUNK,
    DOMAINS_KIND,
    DOMAINS_UNSURE,
    OWN_WINDOW,
    START_DELAY_S,
    Entry,
    RunsIndex,
    grams_counted,
)
from wattwise.server.runs_index import SORTS as SORTS
from wattwise.server.runs_index import STORED_STATUSES as STORED_STATUSES
from wattwise.server.runs_index import RunsQuery as RunsQuery
from wattwise.server.runs_index import json_field as _j
from wattwise.server.runs_recheck import page_of_found


def _unsigned(value: str) -> str:
    """``value`` (SQL) with a -0.0 read as 0.0, anything else (text, NULL) as it is: a
    stored zero is 0, and no output says "-0.0" (``stored_energy.unsigned_zeros``)."""
    return f"(SELECT CASE WHEN typeof(v) = 'real' AND v = 0 THEN 0.0 ELSE v END FROM" \
           f" (SELECT {value} AS v))"


def _figure(path: str) -> str:
    """A stored figure of the summary at ``path`` as the row carries it: a JSON true or
    false as the text it is stored as (SQLite's ``->>`` reads true as 1, and the list
    judged a high of ``true`` "below its low (4.02921-1 J)" where every other output says
    it is not a number), anything else as ``_unsigned`` gives it."""
    kind = f"json_type(summary_json, '{path}')"
    return (f"CASE WHEN {readable('summary_json')} AND {kind} IN ('true', 'false') THEN {kind}"
            f" ELSE {_unsigned(_j('summary_json', path))} END")


#: The emissions block's figures a runs-list row carries (``_ROW``'s ``emissions_json``).
_BLOCK = ("emissions_g", "low_g", "high_g", "energy_kwh", "facility_energy_kwh",
          "avg_intensity_g_per_kwh")

_ROW = (
    "id, name, status, started_unix_s, ended_unix_s, heartbeat_unix_s, hostname,"
    f" {_figure('$.energy_j')} AS energy_j,"
    f" {_figure('$.low_j')} AS low_j,"
    f" {_figure('$.high_j')} AS high_j,"
    # the kind its counted domains tell, else the stored one (``DOMAINS_KIND``)
    f" coalesce({DOMAINS_KIND}, {_j('summary_json', '$.kind')}) AS kind,"
    f" {_figure('$.emissions.emissions_g')} AS emissions_g,"
    f" {_j('summary_json', '$.emissions.zone')} AS zone,"
    f" {_j('host_json', '$.hostname')} AS host,"
    # a summary that is not a JSON object (a damaged record) is none: its row is priced
    # from its samples, as every other output prices it; one whose total SQLite cannot
    # tell agrees with its domains (``runs_index.DOMAINS_UNSURE``: a damaged record, or
    # one of odd shape) is read whole and judged in Python, as the run's page judges it
    # (one holding no total, ``{}``: none, as ``records.rows.loads_summary`` reads it)
    f" CASE WHEN {readable('summary_json')} THEN json_type(summary_json) = 'object'"
    " AND json_type(summary_json, '$.energy_j') IS NOT NULL"
    f" AND {DOMAINS_UNSURE} IS NULL ELSE 0 END AS has_summary,"
    # (a summary holding no total is none, ``records.rows.loads_summary``: nor is its
    # duration the run's)
    f" CASE WHEN {readable('summary_json')} AND json_type(summary_json, '$.energy_j')"
    " IS NOT NULL THEN"
    f" {_j('summary_json', '$.duration_s')} END AS summary_duration_s,"
    # the summary's own window, energy and average power (JSON), which a stored duration
    # is judged against too (``records.judged_stored.duration_fault``)
    f" {OWN_WINDOW} AS summary_window,"
    # a study's summary (``summary_of``: the runs it sums) has no emissions of its own
    f" CASE WHEN {readable('summary_json')} THEN json_type(summary_json, '$.summary_of')"
    " IS NOT NULL ELSE 0 END AS study,"
    # the stored emissions block as JSON (its low and high, the figures it was priced
    # from and, where it is not an object, what it holds), for
    # ``records.stored_energy.summary_energy_fault`` and ``summary_emissions_fault``
    # (a figure it does not hold is left out, not given as a null it holds)
    f" CASE WHEN {readable('summary_json')} THEN CASE json_type(summary_json, '$.emissions')"
    " WHEN 'object' THEN json_remove(json_object("
    + ", ".join(f"'{k}', summary_json -> '$.emissions.{k}'" for k in _BLOCK) + "), "
    + ", ".join(f"CASE WHEN json_type(summary_json, '$.emissions.{k}') IS NULL THEN '$.{k}'"
                " ELSE '$.\"-\"' END" for k in _BLOCK)
    + ") ELSE summary_json -> '$.emissions' END END AS emissions_json"
)


#: A page limit that takes every match (``live_page`` orders them all).
_ALL = 1 << 62


class Reads:
    """Aggregating reads of one run database; never writes, never opens the file itself."""

    def __init__(self, path: Path, timeout_s: float = 30.0) -> None:
        self.path = path
        self._timeout_s = timeout_s
        self._db = ReadOnlyDatabase(path, timeout_s)
        self._index = RunsIndex(self.rows)
        self._buckets = KeptBuckets()
        self._lock = threading.RLock()
        self._pages = SqlPages(self.rows, self._index, timeout_s)
        self._live = LiveRuns(self.rows, self._lock)
        self._later = LaterNotes(self._live.kept, self._live.peek)

    def close(self) -> None:
        self._later.stop(30.0)  # no notes pass reads through a connection closed under it
        self._db.close()

    def stop_reads(self, why: str) -> None:
        """Every read refused from now on, those running ended (the server is stopping)."""
        self._db.stop_reads(why)

    def stop_warm(self) -> None:
        """``warm`` ends at its next pause (``runs_index.BuildStopped``): the server stops."""
        self._index.quiet.stopped.set()

    def rows(self, sql: str, params: tuple[Any, ...] | list[Any] = ()) -> list[sqlite3.Row]:
        """Rows of ``sql``, after this process's own queued writes (as ``Store`` reads)."""
        writer = self._db.same_process_writer()
        if writer is not None and writer.pending_rows:
            writer.drain(self._timeout_s, unless_locked_s=0.25)
        try:
            return executed(self._db, sql, params, self._timeout_s).fetchall()
        except sqlite3.Error as exc:
            raise self._db.read_failed(exc) from exc

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
        name and status filters asked meanwhile; from it, SQLite's indexes answer those
        until the index is complete (BENCHMARKS.md, "Dashboard at scale"). What the first
        pages need besides the index is read first (``_prime``)."""
        self._prime()
        if not self._has_sort_indexes():
            self._index.early.read()
        self.index()
        self._index.prepare()
        for sort in SORTS:
            if len(self._index.entries) > BUILD_CHUNK:  # a large index: let requests in
                self._index.quiet.pause()
            self._index.order(sort)
        for step in (self.status_counts, self.totals_by_kind, self.planned_ids):
            if len(self._index.entries) > BUILD_CHUNK:
                self._index.quiet.pause()
            step()
        self._index.set_warmed()

    def _prime(self) -> None:
        """Read first, inside SQLite, what the first pages of a server just started need
        besides the index: the names a name filter matches in Python
        (``_sql_pages.SqlPages.prime``) and which runs stored as running are lost
        (``_live.LiveRuns.prime``)."""
        # a build of seconds: the first page, and any asked for meanwhile, go first
        large = int(self.rows("SELECT coalesce(max(id), 0) FROM runs")[0][0]) > 20 * BUILD_CHUNK
        self._index.quiet.yields = large
        if large:
            time.sleep(START_DELAY_S)
        for prime in (self._pages.prime, self._live.prime):
            self._index.quiet.pause()  # ``BuildQuiet.hush``
            prime()

    def index(self) -> dict[int, Entry]:
        """Every run by id, brought up to date."""
        return self._index.update()

    def runs_page(self, query: RunsQuery) -> tuple[list[sqlite3.Row], int]:
        """The rows of one page and how many runs match in all."""
        query.check()
        self._index.quiet.hush()
        if not self._index.ready(query.sort):
            page = self._page_from_sql(query)
            if page is not None:
                return page
        return page_of_found(self._index, query, self._rows_of)

    def _page_from_sql(self, query: RunsQuery) -> tuple[list[sqlite3.Row], int] | None:
        """The page as the runs index would give it, through SQLite's own indexes
        (``_sql_pages.SqlPages.page_ids``); None where it must wait for the index."""
        got = self._pages.page_ids(query)
        return None if got is None else (self._rows_of(got[0]), got[1])

    def _has_sort_indexes(self) -> bool:
        return self._pages.has_sort_indexes()

    def _rows_of(self, ids: list[int]) -> list[sqlite3.Row]:
        self._index.quiet.hush()  # the page's rows are read and priced now: the build waits
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

    # -- running or lost (``_live.LiveRuns``) -----------------------------------------

    def liveness(self, ids: Sequence[int], stale_after_s: float) -> dict[int, str]:
        """``_live.LiveRuns.liveness``."""
        return self._live.liveness(ids, stale_after_s)

    def live_page(self, query: RunsQuery, stale_after_s: float
                  ) -> tuple[list[sqlite3.Row], int]:
        """One page of the runs ``running`` or ``lost`` now (``query.status``) and how many
        in all, in the query's order (``lost``: the runs stored as lost too,
        ``runs_index.stored_as``). Which runs stored as running are running now comes
        from ``_live.LiveRuns.alive`` (one pass inside SQLite, not a row per run); then,
        from schema version 3, SQLite pages them through its indexes as any other filter
        (the runs index not built yet); else every run stored as running that the
        query's name filter selects, in that order (ids alone), is kept or left out. The
        rows of the page alone are read."""
        query.check()
        if query.status not in ("running", "lost"):
            return self.runs_page(query)
        self._index.quiet.hush()
        alive = self._live.alive(stale_after_s)
        if not self._index.ready(query.sort):  # as ``runs_page``: SQLite's indexes first
            got = self._pages.page_ids(query, alive)
            if got is not None:
                return self._rows_of(got[0]), got[1]
        every = replace(query, offset=0, limit=_ALL)  # ``lost``: stored as lost too
        ordered: list[int] | None = None
        if not self._index.ready(query.sort):
            got = self._pages.page_ids(every)  # ids alone: no row is read whole
            ordered = None if got is None else got[0]
        if ordered is None:
            ordered, _ = self._index.page(every)
        stored, running = alive
        if query.status == "running":
            matching = [rid for rid in ordered if rid in stored and rid in running]
        else:  # stored as running and not running now, or stored as lost
            kept = stored | _stored_lost(self.rows)
            matching = [rid for rid in ordered if rid in kept and rid not in running]
        return (self._rows_of(matching[query.offset : query.offset + query.limit]),
                len(matching))

    def kept(self, key: Any, mark: Any, make: Callable[[], Any]) -> Any:
        """``_live.LiveRuns.kept`` (``hush``), awaiting a notes thread's (``LaterNotes.within``)."""
        self._index.quiet.hush()
        return self._later.within(key, mark, make, None)[1]

    def ask_later(self, key: Any, mark: Any, make: Callable[[], Any], until: float) -> Ticket:
        """``notes_later.LaterNotes.ask``: ``make()`` kept as ``kept`` keeps it, asked of
        threads of its own (a runs-list row's notes: a pass over its samples)."""
        return self._later.ask(key, mark, make, until)

    def kept_until(self, key: Any, mark: Any, make: Callable[[], Any],
                   until: float | None) -> tuple[bool, Any]:
        """``kept`` where ``until`` is None (a page that waits for its figure), else
        ``ask_later`` waited for until then at most (a runs-list row): (whether it is
        made, what it made)."""
        if until is None:
            return True, self.kept(key, mark, make)
        return self.ask_later(key, mark, make, until).wait(until)

    def sample_marks(self, ids: Sequence[int]) -> dict[int, tuple[Any, ...]]:
        """``_live.LiveRuns.sample_marks``."""
        return self._live.sample_marks(ids)

    def newest_ids(self, limit: int, *, finished_only: bool = False) -> list[int]:
        """Ids of the newest runs (with ``finished_only``, those with a summary or ended:
        one ended without a summary is priced from its samples, as a lost one is)."""
        where = "WHERE summary_json IS NOT NULL OR status NOT IN ('running', 'lost')" \
            if finished_only else ""
        return [int(r[0]) for r in self.rows(
            f"SELECT id FROM runs {where} ORDER BY started_unix_s DESC, id DESC LIMIT ?",
            (limit,))]

    def totals_by_kind(self) -> dict[str, tuple[float, float, int, int]]:
        """Energy, emissions, how many runs and how many of them hold emissions that count
        (``RunsIndex.totals_by_kind``), summed over every run that has ended, by the run's
        kind (a figure that is not a number, or is negative, counts as nothing).

        An energy above ``carbon.accounting.MAX_STORED_ENERGY_J`` is not usable either
        (``records.stored_energy``: implausibly large, a damaged record) and counts as
        nothing too: one 1e308 J record would make the whole total meaningless. The
        index adds every figure from 0 up, so only a kind whose sum is above that
        bound can hold one; that kind alone is summed again without it (not taken off:
        1e308 + 1096 - 1e308 is 0 in floating point)."""
        from wattwise.carbon.accounting import MAX_STORED_ENERGY_J

        totals = self._index.totals_by_kind()
        over = {kind for kind, (joules, *_) in totals.items()
                if not joules <= MAX_STORED_ENERGY_J}  # NaN or inf included
        if not over:
            return totals
        return {**totals, **_summed_within_bound(self.index().values(), over)}

    # -- samples ---------------------------------------------------------------------

    def energy_so_far(self, run_id: int) -> dict[str, dict[str, float]]:
        """Per domain: energy, low and high of the samples read, how many, the time of the
        last and its power (gaps left out): ``carbon.partial.sample_sums`` inside SQLite,
        in one pass (``records.growing_sums``, which the dashboard keeps and extends)."""
        return growing_sums.energy_so_far(self.rows, run_id)

    def buckets(self, run_id: int, t0: float, width_s: float, samples: int = -1,
                cut: float | None = None, epoch: int | None = None) -> list[sqlite3.Row]:
        """Samples summed into buckets of ``width_s`` from ``t0``, per domain, in time order,
        those after ``cut`` (``after_cut`` of the run's end; None: no end) apart, each judged
        on its own (``server.timeline.BUCKETS_SQL``). Each row: domain, bucket, samples, last
        time, energy (gaps excluded), gap, lowest and highest power, when its earliest
        sample's interval began, and the rest ``BUCKETS_SQL`` gives. Kept for the same run,
        width, cut (a run judged running, then lost), number of ``samples`` (one still
        recording has more each time) and ``epoch`` (a run without a summary: its
        ``resum_epoch``, so samples edited in place by another tool are seen within a
        minute, as its sums are): a million samples take seconds to sum. Asked again
        while being summed, waited for: a run page's notes (``records.sample_holes``)
        and its timeline ask the same buckets at once."""
        from wattwise.server.timeline import BUCKETS_SQL

        def sum_now() -> list[sqlite3.Row]:
            return self.rows(BUCKETS_SQL, (t0, width_s, run_id, cut))

        if samples < 0:
            return sum_now()
        rows: list[sqlite3.Row] = self._buckets.get(
            (run_id, t0, width_s, samples, cut, epoch), sum_now)
        return rows


def _stored_lost(rows: Callable[..., list[sqlite3.Row]]) -> frozenset[int]:
    """The ids of the runs stored as ``lost`` (``runs_index.stored_as``: another tool's or
    an older version's record; few), through the index on status."""
    return frozenset(int(r[0]) for r in rows("SELECT id FROM runs WHERE status = 'lost'"))


def _summed_within_bound(entries: Iterable[Entry], kinds: set[str]
                         ) -> dict[str, tuple[float, float, int, int]]:
    """``Reads.totals_by_kind`` of ``kinds`` summed again, leaving out each energy above
    ``carbon.accounting.MAX_STORED_ENERGY_J`` (as the index sums them otherwise)."""
    from wattwise.carbon.accounting import MAX_STORED_ENERGY_J

    again: dict[str, tuple[list[float], list[float], list[bool]]] = {
        kind: ([], [], []) for kind in kinds}
    for e in entries:
        t = again.get(e.kind or "unknown")
        if t is None or e.status == "running" or e.summarises:
            continue  # as the index sums them (``RunsIndex.totals_by_kind``)
        j, g = e.energy_j, e.emissions_g
        t[0].append(j if j is not None and e.energy_usable and 0 <= j <= MAX_STORED_ENERGY_J
                    else 0.0)
        counts = grams_counted(e)
        t[1].append(g if g is not None and counts else 0.0)
        t[2].append(counts)
    return {k: (exact_sum(j), exact_sum(g), len(p), sum(p)) for k, (j, g, p) in again.items()}


@contextmanager
def reading(store: Any, reads: Reads | None) -> Iterator[Reads]:
    """``reads``, or a read-only handle on ``store``'s file (a ``Store``) for the length
    of one call."""
    if reads is not None:
        yield reads
        return
    own = Reads(store.path)
    try:
        yield own
    finally:
        own.close()
