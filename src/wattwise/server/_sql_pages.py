"""The runs list's pages through SQLite's own indexes, while the runs index is built.

``Reads`` answers a page from its runs index once that holds every run; until then
(seconds for 100,000 runs) a page is read here, the same page the index gives: in
start, id or name order from ``runs_started`` and ``runs_name``, and from schema
version 3 in any order and by status from the indexes ``records.schema`` keeps
(``SORT_KEYS``); a page these cannot give (a status in name order, a name filter
matching more than ``_SQL_MATCHES`` runs in another order, or any sort by a figure in
an older database) waits for the index.
"""

from __future__ import annotations

import heapq
import itertools
import re
import sqlite3
from collections.abc import Callable
from typing import Any

from wattwise.records import schema
from wattwise.server.runs_index import RunsIndex, RunsQuery, name_of, real, start_key

#: Most runs a name filter may match for the page to be sorted by start from SQLite
#: while the index is being built (each is one lookup by id).
_SQL_MATCHES = 5000


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


class SqlPages:
    """The pages of one ``Reads`` read through SQLite's indexes (``rows`` runs one query),
    as ids: ``Reads`` reads the page's rows."""

    def __init__(self, rows: Callable[..., list[sqlite3.Row]], index: RunsIndex,
                 timeout_s: float) -> None:
        self.rows = rows
        self._index = index
        self._timeout_s = timeout_s
        self._sort_indexes = False  # once seen, a writer's migration does not undo them

    def page_ids(self, query: RunsQuery) -> tuple[list[int], int] | None:
        """The page as the index would give it, read through SQLite's indexes alone (or
        the names, statuses and starts read first); None where that would scan the table
        (a name filter with a sort by status or a summary figure, or, in a database from
        before schema version 3, any sort by one or a status filter before the statuses
        are read) or a name filter matches too many runs to sort by start
        (``_SQL_MATCHES``)."""
        q = query.q.strip()
        if self.has_sort_indexes():
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
        return ids, total

    def has_sort_indexes(self) -> bool:
        """Whether the database has the indexes of schema version 3 (an older one is read
        as it is, and its pages sorted by a summary figure wait for the runs index)."""
        if not self._sort_indexes:
            names = {str(r[0]) for r in self.rows(
                "SELECT name FROM sqlite_master WHERE type = 'index'")}
            self._sort_indexes = set(schema.SORT_INDEXES) <= names
        return self._sort_indexes

    def _indexed_page(self, query: RunsQuery) -> tuple[list[int], int]:
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
        return ids, total

    def _named_page(self, query: RunsQuery) -> tuple[list[int], int] | None:
        """A page filtered by name or id (and status), from schema version 3: the names
        through the covering index ``runs_name``, then, where the page is not in name or
        id order of every match, each match's status and sort key by id, or where more
        than ``_SQL_MATCHES`` runs match and the page is in start order, every id in that
        order (None where more match in another order)."""
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
        elif len(named) > _SQL_MATCHES and query.sort == "started":
            # many matches: every id in start order (from ``runs_started``, or
            # ``runs_status`` for a status), kept where it matched
            wanted = {rid for _, rid in named}
            order = "DESC" if query.desc else "ASC"
            where, params = (("WHERE status = ?", ("running" if query.status == "lost"
                                                   else query.status,))
                             if query.status else ("", ()))
            matching = [int(r[0]) for r in self.rows(
                f"SELECT id FROM runs {where} ORDER BY started_unix_s {order}, id {order}",
                params) if int(r[0]) in wanted]
        elif len(named) > _SQL_MATCHES:
            return None
        else:
            matching = self._by_key(named, query)
        ids = matching[query.offset : query.offset + query.limit]
        return ids, len(matching)

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

    def _name_page(self, query: RunsQuery) -> tuple[list[int], int]:
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
        return ids, int(self.rows("SELECT count(*) FROM runs")[0][0])

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
