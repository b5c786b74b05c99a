"""The runs list's pages through SQLite's own indexes, while the runs index is built.

``Reads`` answers a page from its runs index once that holds every run; until then
(seconds for 100,000 runs) a page is read here, the same page the index gives. From
schema version 3, every page: SQLite walks the index of its order (``SORT_KEYS``,
``runs_name_nocase``) and keeps the runs its filters pass (but a sort by energy or
emissions reads the runs it walks, ``_usable_ids``, or, far down the order, leaves out
those whose figure is not usable, found inside SQLite, ``_counted_ids``), a status
through the indexes on status, a name filter and whether a run stored as running is
running now as sets of ids looked up inside SQLite, so that no row per matching run comes
to Python (which, beside the build of the index, took a second for 20,000 matches). In an
older database, pages in start, id or name order from ``runs_started`` and ``runs_name``; a
page these cannot give (a status in name order, a name filter matching more than
``_SQL_MATCHES`` runs in another order, or any sort by a figure) waits for the index.
"""

from __future__ import annotations

import dataclasses
import functools
import heapq
import itertools
import json
import re
import sqlite3
from collections.abc import Callable
from typing import Any

from wattwise.records import schema
from wattwise.records.liveness import stored_status
from wattwise.server import unsure_kept
from wattwise.server._usable_sql import UnusableRuns, rule_values
from wattwise.server.name_match import ASCII_NAME, NameMatch
from wattwise.server.runs_index import (
    ENTRY_COLUMNS,
    SORT_FIELDS,
    RunsIndex,
    RunsQuery,
    entry_of,
    id_named,
    name_of,
    real,
    sort_value,
    start_key,
)
from wattwise.server.status_filter import selects, status_sql

#: ``_live.LiveRuns.alive``: the ids of the runs stored as running, and of those running now.
Live = tuple[frozenset[int], frozenset[int]]

#: Sorts whose pages SQLite's index on the stored figure cannot give alone: the runs index
#: sorts a stored total, stored emissions or a stored duration that are not usable
#: (``records.stored_energy``: outside their own low-high range, a stored ``true``, 1e308
#: g, text; ``records.judged_stored.duration_fault``: 1e300 s, or longer than the run's
#: start to end; ``runs_index.sort_value``) with the runs that have none, both ways, and
#: that index put a stored 1e308 g first. Their pages read the runs the index walks and
#: judge each by the runs index's own rule (``_usable_ids``), or, far down the order,
#: count them with that rule written as SQL (``_counted_ids``), or wait for the index.
WAITS_FOR_INDEX = frozenset({"energy", "emissions", "duration"})
#: Most runs a page in a ``WAITS_FOR_INDEX`` order reads into Python (each with its
#: summary's figures: 2,000 took 150-220 ms on 2 shared vCPUs at load 6.6, the whole runs
#: index of 100,000 7-9 s) before SQLite judges them itself (``_counted_ids``): a page far
#: down the order, or one past the last usable figure (the runs without one are ordered by
#: id, every damaged figure among them: all must be known).
_WALK_MAX = 2000
#: Most ids of a filter (a name's matches, the runs running now) that SQLite looks up
#: one by one to page them; past it, it walks the order's index and keeps those in them.
_FEW_IDS = 1000
#: Most runs a name filter may match for the page to be sorted by start from SQLite
#: while the index is being built (each is one lookup by id).
_SQL_MATCHES = 5000


def _id_of(q: str) -> int | None:
    """The run id ``q`` may name ("007" names 7: a name filter's ``id = ?``), or None."""
    digits = q.removeprefix("-")
    return int(q) if digits.isascii() and digits.isdigit() and len(digits) <= 18 else None


def _few(where: str) -> bool:
    """Whether ``where`` (``SqlPages._where``) keeps only a few ids, looked up one by one."""
    return where.startswith("id IN") or " AND id IN" in where


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


class SqlPages:
    """The pages of one ``Reads`` read through SQLite's indexes (``rows`` runs one query),
    as ids: ``Reads`` reads the page's rows."""

    def __init__(self, rows: Callable[..., list[sqlite3.Row]], index: RunsIndex,
                 timeout_s: float) -> None:
        self.rows = rows
        self._index = index
        self._timeout_s = timeout_s
        self._sort_indexes = False  # once seen, a writer's migration does not undo them
        self.names = NameMatch(rows)
        # the build waits for a pass; none where SQLite keeps the runs (``unsure_kept``)
        self.unusable = UnusableRuns(rows, index.quiet.hush,
                                     functools.partial(unsure_kept.unsure_ids, rows))

    def page_ids(self, query: RunsQuery, alive: Live | None = None
                 ) -> tuple[list[int], int] | None:
        """The page as the index would give it, read through SQLite's indexes alone (or
        the names, statuses and starts read first); None where that would scan the table
        (in a database from before schema version 3: a name filter with a sort by status
        or a summary figure, any sort by one, or a status filter before the statuses are
        read) or a name filter matches too many runs to sort by start
        (``_SQL_MATCHES``).

        With ``alive`` (``_live.LiveRuns.alive``), ``running`` and ``lost`` are the runs
        stored as running that are running now or not, ``lost`` with those stored as lost
        (``status_filter.stored_as``; from schema version 3; None before); without it,
        ``running`` is the runs stored as running, ``lost`` those and the ones stored as
        lost."""
        q = query.q.strip()
        live = alive is not None and query.status in ("running", "lost")
        if query.sort in WAITS_FOR_INDEX and not self.has_sort_indexes():
            return None
        if self.has_sort_indexes():
            where = self._where(query, alive if live else None)
            if query.sort in WAITS_FOR_INDEX:
                ids = _usable_ids(self.rows, query, where, self.unusable)
                return None if ids is None else (ids, self._count(where))
            if query.sort in schema.SORT_KEYS:
                return self._indexed_page(query, where)
            return self._name_page(query, where)
        if live:
            return None  # the caller decides each run stored as running of the page
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
        return ids, total

    def has_sort_indexes(self) -> bool:
        """Whether the database has the indexes of schema version 3 that pages are read
        through (an older one is read as it is, and its pages sorted by a summary figure
        wait for the runs index); ``runs_live`` is not one of them."""
        if not self._sort_indexes:
            names = {str(r[0]) for r in self.rows(
                "SELECT name FROM sqlite_master WHERE type = 'index'")}
            self._sort_indexes = set(schema.SORT_INDEXES) - {"runs_live"} <= names
        return self._sort_indexes

    def _where(self, query: RunsQuery, alive: Live | None) -> tuple[str, tuple[Any, ...]]:
        """The query's filters as one SQL condition: its status (through ``runs_status_id``
        in name order, whose index has no status), whether each run stored as running is
        running now (``alive``), and its name filter (``NameMatch.ids``), each of the last
        two as a set of ids that a walk along the order's index looks each run up in,
        inside SQLite: no row per match comes to Python."""
        parts: list[str] = []
        params: list[Any] = []
        sets: list[list[int]] = []  # the sets of ids a run must be in
        if query.status:
            # ``lost``: the runs stored as running (those running now left out below) and
            # those stored as lost (``status_filter.stored_as``)
            cond, statuses = status_sql(query.status)
            parts.append("+id IN (SELECT id FROM runs INDEXED BY runs_status_id WHERE"
                         f" {cond})" if query.sort == "name" else cond)
            params.extend(statuses)
            if alive is not None and query.status == "lost":
                parts.append("+id NOT IN (SELECT value FROM json_each(?))")
                params.append(json.dumps(sorted(alive[1])))
            elif alive is not None:
                sets.append(sorted(alive[1]))
        q = query.q.strip()
        if q:
            sets.append(self.names.ids(q))
        for ids in sets:
            # few ids: SQLite looks each one up and sorts them (``id``); many: it walks the
            # order's index and looks each run up in them (``+id``: not by id)
            parts.append(f"{'' if len(ids) <= _FEW_IDS else '+'}id IN"
                         " (SELECT value FROM json_each(?))")
            params.append(json.dumps(ids))
        return " AND ".join(parts) or "1", tuple(params)

    def _count(self, filters: tuple[str, tuple[Any, ...]]) -> int:
        """How many runs pass ``filters`` (``_where``): from the few ids they name, or
        counted along the smallest index that holds every run and its status (not the
        table, which would be read whole)."""
        where, params = filters
        through = "" if _few(where) else "INDEXED BY runs_status_id"
        return int(self.rows(f"SELECT count(*) FROM runs {through} WHERE {where}",
                             params)[0][0])

    def prime(self) -> None:
        """Read now what a name filter's first page needs (``NameMatch.odd``)."""
        if self.has_sort_indexes():
            self.names.odd()

    def _indexed_page(self, query: RunsQuery, filters: tuple[str, tuple[Any, ...]]
                      ) -> tuple[list[int], int]:
        """A page in any order but by name, through the indexes of schema version 3, as
        the runs index orders it: by the key then id, and the runs without a value for
        it (``schema.VALUED``) after them, by id; ``filters`` from ``_where``."""
        key, valued = schema.SORT_KEYS[query.sort], schema.VALUED.get(query.sort)
        order = "DESC" if query.desc else "ASC"
        where, params = filters
        total = self._count(filters)
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
        return ids, total

    def _name_page(self, query: RunsQuery, filters: tuple[str, tuple[Any, ...]]
                   ) -> tuple[list[int], int]:
        """A page by name without case, then id, as the runs index orders it
        (``_names_from``); one past the middle of the order read from its other end (a
        page 99,000 down 100,000 runs read the 99,000 names before it: 0.2 s, 0.5 s
        beside the runs index's build), reversed; ``filters`` from ``_where``."""
        total = self._count(filters)
        if query.offset <= total // 2:
            return _names_from(self.rows, self.names, query, filters), total
        back = dataclasses.replace(query, desc=not query.desc,
                                   offset=max(0, total - query.offset - query.limit),
                                   limit=max(0, min(query.limit, total - query.offset)))
        return _names_from(self.rows, self.names, back, filters)[::-1], total

    def _status_page(self, query: RunsQuery) -> tuple[list[int], int] | None:
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
        later = self.rows("SELECT id, status, started_unix_s, name FROM runs WHERE id > ?",
                          (min(last_id, named[1] if named else last_id),))
        names = {rid for _, rid in named[0]} if named else set()
        folded, rid_q = q.casefold(), id_named(q)
        for r in later:
            if folded in name_of(r[3]).casefold():
                names.add(int(r[0]))
        if rid_q is not None and (rid_q in status_of or rid_q in {int(r[0]) for r in later}):
            names.add(rid_q)
        chain = by_start if query.sort == "started" else by_id
        matching = [rid for rid in chain
                    if selects(query.status, status_of[rid]) and (not q or rid in names)]
        extra = [(start_key(r[2]) if query.sort == "started" else 0, int(r[0])) for r in later
                 if int(r[0]) > last_id and selects(query.status, stored_status(r[1]))
                 and (not q or int(r[0]) in names)]
        if extra:  # runs added since: placed among the others
            keyed = [(start_of[rid] if query.sort == "started" else 0, rid) for rid in matching]
            matching = [rid for _, rid in sorted(keyed + extra)]
        if query.desc:
            matching.reverse()
        return matching[query.offset : query.offset + query.limit], len(matching)

    def _by_start(self, ids: list[int], desc: bool) -> list[int]:
        keyed: list[tuple[float, int]] = []
        for k in range(0, len(ids), 500):
            chunk = ids[k : k + 500]
            keyed += [(real(r[1]) or 0.0, int(r[0])) for r in self.rows(
                "SELECT id, started_unix_s FROM runs WHERE id IN"
                f" ({', '.join('?' * len(chunk))})", chunk)]
        keyed.sort(reverse=desc)
        return [rid for _, rid in keyed]



def _names_from(rows: Callable[..., list[sqlite3.Row]], names: NameMatch, query: RunsQuery,
                filters: tuple[str, tuple[Any, ...]]) -> list[int]:
    """The ids of a page by name without case, then id: SQLite merges the names stored as
    ASCII text, in the order of ``runs_name_nocase`` (its NOCASE folds them as
    ``casefold`` does), with the others (``NameMatch.odd``), folded here (``ß`` folds to
    ``ss``: SQLite would not) and given to it as JSON. No name comes to Python: a page
    50,000 down 100,000 runs, a quarter of their names not ASCII, read the 50,000 names
    before it into Python (0.2 s; 0.4 s beside the runs index's build, which waited for
    the interpreter meanwhile). The two orders agree: NOCASE folds ASCII letters alone,
    the folded names hold none to fold, and SQLite compares their UTF-8 bytes as Python
    compares their code points."""
    where, params = filters
    order = "DESC" if query.desc else "ASC"
    through = "" if _few(where) else "INDEXED BY runs_name_nocase"
    keys = names.odd_keys()
    if keys == "[]":  # the ASCII names alone: paged along the index
        return [int(r[0]) for r in rows(
            f"SELECT id FROM runs {through} WHERE {where}"
            f" ORDER BY name COLLATE NOCASE {order}, id {order} LIMIT ? OFFSET ?",
            (*params, query.limit, query.offset))]
    # every run once: the folded ones looked up in the runs, filtered or not (one another
    # tool deleted is left out; its id taken again by a run named in ASCII is that run's),
    # and every other run in SQLite's order (one another tool renamed from ASCII since the
    # names were read too, at its name as SQLite orders it, as before)
    return [int(r[1]) for r in rows(
        f"SELECT name COLLATE NOCASE, id FROM runs {through} WHERE {where}"
        f" AND ({ASCII_NAME} OR +id NOT IN (SELECT json_extract(value, '$[1]') FROM json_each(?)))"
        " UNION ALL SELECT odd.k, runs.id FROM (SELECT json_extract(value, '$[0]') AS k,"
        " json_extract(value, '$[1]') AS rid FROM json_each(?)) AS odd"
        f" JOIN runs ON runs.id = odd.rid WHERE {where} AND NOT ({ASCII_NAME})"
        f" ORDER BY 1 COLLATE NOCASE {order}, 2 {order} LIMIT ? OFFSET ?",
        (*params, keys, keys, *params, query.limit, query.offset))]


def _usable_ids(rows: Callable[..., list[sqlite3.Row]], query: RunsQuery,
                filters: tuple[str, tuple[Any, ...]], unusable: UnusableRuns
                ) -> list[int] | None:
    """The ids of a page by a judged figure (``WAITS_FOR_INDEX``) as the runs index gives
    them, through the index of the stored figure (``schema.SORT_KEYS``): the runs it
    orders are read in that order (``runs_index.ENTRY_COLUMNS``) and judged by the runs
    index's own rule (``entry_of``, ``sort_value``), those whose figure is not usable
    kept aside, until the page is full; then the runs without a usable figure by id:
    those SQLite holds no number for (``schema.MISSING``, which the runs index never
    sorts by a figure) and those kept aside. Where that would read more than
    ``_WALK_MAX`` runs, SQLite judges them itself (``_counted_ids``).

    The runs index sorts the figure as a float, SQLite as it is stored (it orders an
    integer above 2**53 apart from the float it rounds to): the orders are the same
    but for ties, so the page's last value is read to its end, and the page sorted
    again by float, then id. A usable duration (a number up to 1e9 s, or a start to end
    of REAL columns) SQLite orders as its float: no tie is read to its end (20,000 lost
    runs of 0 s were read, and then counted, for the first page by duration ascending)."""
    want = query.offset + query.limit
    exact = query.sort == "duration"
    if want >= _WALK_MAX:  # the page and one run after it (its last value's end)
        return _counted_ids(rows, query, filters, unusable)
    key, field = schema.SORT_KEYS[query.sort], SORT_FIELDS[query.sort]
    order = "DESC" if query.desc else "ASC"
    where, params = filters
    keyed: list[tuple[Any, int]] = []  # usable, in SQLite's order
    aside: list[int] = []  # a number in SQLite, not usable by the runs index's rule
    read, batch = 0, min(_WALK_MAX, want + want // 16 + 20)  # a few damaged expected
    while True:
        page = rows(
            f"SELECT {ENTRY_COLUMNS} FROM runs WHERE {where} AND {schema.VALUED[query.sort]}"
            f" ORDER BY {key} {order}, id {order} LIMIT ? OFFSET ?", (*params, batch, read))
        read += len(page)
        for row in page:
            rid, entry = entry_of(row)
            value = sort_value(entry, field)
            if value is None:
                aside.append(rid)
            else:
                keyed.append((value, rid))
        if not want or (len(keyed) >= want and exact) or (
                len(keyed) > want and keyed[-1][0] != keyed[want - 1][0]):
            break  # full, and the page's last value read to its end
        if len(page) < batch:
            break  # every run with a number read
        if read >= _WALK_MAX:
            return _counted_ids(rows, query, filters, unusable)
        batch = min(_WALK_MAX - read, 2 * batch)
    keyed.sort(reverse=query.desc)
    ids = [rid for _, rid in keyed[query.offset : want]]
    if len(ids) < query.limit:  # past the last usable figure: every run with a number read
        skip = max(0, query.offset - len(keyed))
        missing = [int(r[0]) for r in rows(
            f"SELECT id FROM runs WHERE {where} AND {schema.MISSING[query.sort]}"
            f" ORDER BY id {order} LIMIT ?", (*params, skip + query.limit - len(ids)))]
        tail = heapq.merge(missing, sorted(aside, reverse=query.desc), reverse=query.desc)
        ids += itertools.islice(tail, skip, skip + query.limit - len(ids))
    return ids


def _counted_ids(rows: Callable[..., list[sqlite3.Row]], query: RunsQuery,
                 filters: tuple[str, tuple[Any, ...]], unusable: UnusableRuns
                 ) -> list[int] | None:
    """The ids of a page by a judged figure as the runs index gives them, however far
    down the order: the runs SQLite holds a number for whose figure is not usable
    (``_usable_sql.UnusableRuns``: few, found in one pass inside SQLite, then kept) left
    out, the page is ``OFFSET``/``LIMIT`` along the figure's index; past the last usable
    figure, the runs without one by id (those SQLite holds no number for, and those), as
    ``_usable_ids`` orders them. Usable figures (at most 1e15 J, their emissions' bound,
    1e9 s) are below 2**53: SQLite orders them as the runs index orders their floats.
    None (wait for the runs index) where ``UnusableRuns.ids`` gives none, or the runs
    index's rule judges a run of the page otherwise (``_confirmed``)."""
    every = unusable.ids(query.sort)
    if every is None:
        return None
    key, valued = schema.SORT_KEYS[query.sort], schema.VALUED[query.sort]
    order = "DESC" if query.desc else "ASC"
    where, params = filters
    n_valued = int(rows(f"SELECT count(*) FROM runs WHERE {where} AND {valued}",
                        params)[0][0])
    aside = [int(r[0]) for r in rows(  # those the filters keep
        f"SELECT id FROM runs WHERE {where} AND {valued} AND +id IN (SELECT value FROM"
        " json_each(?))", (*params, json.dumps(every)))]
    n_usable = n_valued - len(aside)
    ids: list[int] = []
    if query.offset < n_usable:
        ids = [int(r[0]) for r in rows(
            f"SELECT id FROM runs WHERE {where} AND {valued} AND +id NOT IN (SELECT value"
            f" FROM json_each(?)) ORDER BY {key} {order}, id {order} LIMIT ? OFFSET ?",
            (*params, json.dumps(every), query.limit, query.offset))]
    head = len(ids)
    if head < query.limit:  # past the last usable figure
        skip = max(0, query.offset - n_usable)
        # ``+id``: found through the key's index, then sorted (in id order, SQLite would
        # read every summary to find 20,000 runs without a figure: seconds)
        missing = [int(r[0]) for r in rows(
            f"SELECT id FROM runs WHERE {where} AND {schema.MISSING[query.sort]}"
            f" ORDER BY +id {order} LIMIT ?", (*params, skip + query.limit - head))]
        tail = heapq.merge(missing, sorted(aside, reverse=query.desc), reverse=query.desc)
        ids += itertools.islice(tail, skip, skip + query.limit - head)
    return ids if _confirmed(rows, ids, head, query) else None


def _confirmed(rows: Callable[..., list[sqlite3.Row]], ids: list[int], head: int,
               query: RunsQuery) -> bool:
    """Whether the runs index's own rule agrees with a page of ``_counted_ids``: its first
    ``head`` runs have a usable figure, in the query's order (ties by id), the others none."""
    values = rule_values(rows, ids, query.sort)
    if set(values) != set(ids) or any(values[rid] is not None for rid in ids[head:]):
        return False
    keyed = [(values[rid], rid) for rid in ids[:head]]
    return all(v is not None for v, _ in keyed) and keyed == sorted(keyed, reverse=query.desc)
