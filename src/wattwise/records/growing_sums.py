"""A run's sample sums kept between reads and extended by the samples stored since.

A run still recording gains a few samples a second; summing all of them again at each
read of its figures (the runs list, ``/api/runs/ID``, ``/metrics``) took seconds at a
million samples. Samples are only ever appended (no writer changes or deletes one), so
the sums of a run are kept with the highest rowid they include, and each read adds the
rows stored since: ``rowid > :kept AND rowid <= :now AND +run_id = :run`` walks those
rows alone through the table's rowid (the ``+`` keeps SQLite off the ``samples_run_t``
index, which would walk every sample of the run). Each read is of one moment, rowid
``upto``: the sums, the span and the cells pricing reads (``SampleView``) all stop
there, so a figure includes every sample stored before the read began.

Kept: per domain, what ``records.sample_sums.SUMS_SQL`` sums and the last power
(``Reads.energy_so_far``); and the pricing cells (``SampleSums.cell_sums``) for each
origin and width asked, merged cell by cell (an added sample of an earlier time falls in
its own cell, so time order does not matter); and, once asked, how many stored values
pricing names (``SampleSums.bad_sample_values``) with the first five samples holding one
and their places, moved by the samples stored since (a pass over every sample to name
them took seconds a refresh on a run holding thousands); those it names are looked up at
each read, so one edited or deleted by another tool is named anew at once. A kept run is
summed again from the start when its last summed row is no longer as it was read (a
database replaced or edited by another tool), when the origin and width of its cells
change (a longer run priced on a trace may span a finer step), and when its last sum
from the start is ``FULL_RESUM_S`` old: another tool may delete or edit older rows,
which the checks above do not see, so a database edited by another tool is read right
within FULL_RESUM_S (a sum from the start of a million samples takes seconds: once a
minute at most per run read).
"""

from __future__ import annotations

import math
import sqlite3
import threading
import time
import weakref
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from wattwise.records.sample_sums import (
    BAD_FIRST,
    NOT_GAP,
    SAMPLE_MIX,
    SUMMED,
    USABLE_E,
    bad_rows,
    cells_sql,
    first_named,
    place_before,
    upto_rowid,
)

#: How many runs one store keeps the sums of (the least recently read are let go).
MAX_RUNS = 64
#: How many origin and width pairs of pricing cells a run keeps.
MAX_GRIDS = 4
#: Seconds after which a kept run is summed again from the start (older rows deleted
#: or edited by another tool are then seen).
FULL_RESUM_S = 60.0

#: Per domain, over the samples ``{where}`` selects that are not gaps: energy, low,
#: high, how many, the last time and (SQLite's bare column beside the one ``max``) the
#: power of the sample at that time: ``SUMS_SQL`` with the last power; then the sum of
#: the samples' ``SAMPLE_MIX``, which no figure shows: a sample moved in time changes
#: it (not the others), and a ``SampleView``'s ``fingerprint`` holds it, so cells kept
#: through a view are priced again.
_SUMS = ("SELECT domain, " + SUMMED + ", count(*),"
         " max(t_unix_s), power_w, count(CASE WHEN " + USABLE_E + " THEN 1 END),"
         " total(" + SAMPLE_MIX + ")"
         " FROM samples WHERE {where} AND " + NOT_GAP + " GROUP BY domain")
#: The rowid of the newest stored row of a run among those ``{where}`` selects.
_LAST = "SELECT max(rowid) FROM samples WHERE {where}"
#: A row as ``_Run.last`` keeps it.
_ROW = ("SELECT rowid, run_id, t_unix_s, domain, energy_j, power_w, low_j, high_j, gap"
        " FROM samples WHERE rowid = ?")


#: A sample ``bad`` names, as ``BAD_FIRST`` reads it, while it is still one of the run's.
_NAMED = BAD_FIRST.format(where="rowid = :r AND run_id = :run")


def _new(lo: int, hi: int) -> str:
    """The run's samples stored after rowid ``lo`` up to ``hi``, read by rowid."""
    return f"rowid > {int(lo)} AND rowid <= {int(hi)} AND +run_id = :run"


def _all(hi: int) -> str:
    """The run's samples stored up to rowid ``hi``, read through its index."""
    return f"run_id = :run{upto_rowid(hi)}"


def _rank(value: Any) -> tuple[int, Any]:
    """A stored value's place in SQLite's order (NULL, numbers, text, blobs), so that a
    max of two kept maxima is SQLite's max of all."""
    if value is None:
        return (0, 0)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return (1, value)
    return (2, value) if isinstance(value, str) else (3, bytes(value))


@dataclass
class _Run:
    """One run's kept sums, up to rowid ``upto``."""

    upto: int
    #: the run's newest row summed (rowid first), as it was read; None without one
    last: tuple[Any, ...] | None
    #: domain: [energy, low, high, samples, last time, last power]
    sums: dict[Any, list[Any]] = field(default_factory=dict)
    #: (domains, origin, width): (domain, cell): the ``cell_sums`` row's figures
    cells: dict[tuple[Any, ...], dict[tuple[Any, Any], list[Any]]] = field(
        default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    #: the clock's reading when the run was last summed from the start
    summed_at: float = 0.0
    #: the ``mark`` it was then summed for (``at_now``)
    whole_mark: Any = None
    #: how many values pricing names (``bad_sample_values``) and the first five samples
    #: holding one, each ``[place, BAD_FIRST row]``; None until asked
    bad: tuple[int, list[list[Any]]] | None = None


class GrowingSums:
    """The kept sums of the runs of one store (``growing``); ``store`` supplies the
    queries (a ``records.queries.RunQueries``); ``clock`` (seconds, monotonic) times
    ``FULL_RESUM_S``."""

    def __init__(self, store: Any, clock: Callable[[], float] = time.monotonic) -> None:
        self._store = weakref.ref(store)
        self.clock = clock
        self._runs: dict[int, _Run] = {}
        self._kept: dict[Any, tuple[Any, Any]] = {}
        self._lock = threading.Lock()

    def kept(self, key: Any, mark: Any, make: Callable[[], Any]) -> Any:
        """``make()``, kept under ``key`` while ``mark`` stays the same (a lost run's
        figures, as ``server._live.LiveRuns.kept`` keeps its runs-list row)."""
        with self._lock:
            got = self._kept.get(key)
        if got is not None and got[0] == mark:
            return got[1]
        value = make()
        with self._lock:
            if len(self._kept) >= 1024:
                self._kept.clear()
            self._kept[key] = (mark, value)
        return value

    def _read(self, sql: str, params: Any = ()) -> list[sqlite3.Row]:
        store = self._store()
        if store is None:  # pragma: no cover - kept only while the store is
            raise RuntimeError("the store of these sums is closed")
        return list(store._read(sql, params))

    @contextmanager
    def at_now(self, run_id: int, *, whole: bool = False,
               mark: Any = None) -> Iterator[SampleView]:
        """The run's sums brought up to the samples stored now, as a ``SampleView`` of
        that moment; other reads of the same run wait meanwhile (it is priced once,
        not once per request that came in at the same time). ``whole``: summed from the
        start (a lost run priced again because its samples were changed by another
        tool: ``server._live.samples_mark``), unless they were last summed from the
        start for the same ``mark`` (None: never taken as the same): the run's list row,
        its page's figures and its timeline's pricing, each kept by that mark, then sum
        a million samples once, not once each."""
        with self._lock:
            run = self._runs.pop(run_id, None)
            if run is None:
                run = _Run(upto=-1, last=None)
            self._runs[run_id] = run  # newest read last
            while len(self._runs) > MAX_RUNS:
                self._runs.pop(next(iter(self._runs)))
        with run.lock:
            if whole and (mark is None or run.whole_mark != mark):
                run.upto = -1
            try:
                self._extend(run_id, run, mark)
            except BaseException:
                run.upto = -1  # part added, part not: summed again at the next read
                raise
            yield SampleView(self, run_id, run)

    def _extend(self, run_id: int, run: _Run, mark: Any = None) -> None:
        hi = int(self._read("SELECT coalesce(max(rowid), 0) FROM samples")[0][0])
        if run.upto >= 0 and run.last is not None:
            now = self._read(_ROW, (run.last[0],))
            if not now or tuple(now[0]) != run.last:  # not as it was summed: again
                run.upto = -1
        if run.upto >= 0 and hi < run.upto:  # rows taken away: summed again
            run.upto = -1
        if run.bad is not None and any(  # a sample it names edited or deleted: named anew
                [tuple(r) for r in self._read(_NAMED, {"r": row[0], "run": run_id})]
                != [tuple(row)]
                for _, row in run.bad[1]):
            run.bad = None
        now_s = self.clock()
        if run.upto >= 0 and not 0 <= now_s - run.summed_at < FULL_RESUM_S:
            run.upto = -1  # older rows may have been changed by another tool since
        if run.upto < 0:
            run.summed_at, run.whole_mark = now_s, mark
            run.sums.clear()
            run.cells.clear()
            run.bad = None
            run.last = None
            where = _all(hi)
        elif hi == run.upto:
            return
        else:
            where = _new(run.upto, hi)
        for r in self._read(_SUMS.format(where=where), {"run": run_id}):
            _add_sums(run.sums, r)
        for (domains, origin, width), cells in run.cells.items():
            for r in self._read(cells_sql(len(domains), where),
                                _cell_params(run_id, domains, origin, width)):
                _add_cell(cells, r)
        if run.bad is not None:
            self._add_bad(run_id, run, where, hi)
        newest = self._read(_LAST.format(where=where), {"run": run_id})[0][0]
        if newest is not None:
            run.last = tuple(self._read(_ROW, (newest,))[0])
        run.upto = hi

    def _add_bad(self, run_id: int, run: _Run, where: str, hi: int) -> None:
        """The values pricing names among the samples ``where`` selects (stored after
        the kept ones, up to ``hi``) added: counted, and the first five of the kept and
        the new ones kept, each kept one's place moved by the new samples before it."""
        assert run.bad is not None
        named = {"run": run_id}
        n, rows = bad_rows(self._read, where, named)
        kept = [[i + place_before(self._read, where, named, r), r] for i, r in run.bad[1]]
        new: list[list[Any]] = [[None, r] for r in rows]
        first = sorted(kept + new, key=lambda x: (_rank(x[1][1]), x[1][0]))[:5]
        for x in first:
            if x[0] is None:  # its place among every sample stored up to ``hi``
                x[0] = place_before(self._read, _all(hi), named, x[1])
        run.bad = (run.bad[0] + n, first)

    def bad(self, run_id: int, run: _Run) -> tuple[int, list[tuple[str, Any]]]:
        """``SampleSums.bad_sample_values`` up to the run's kept rowid, kept and extended
        with its sums (counted from the start the first time it is asked)."""
        if run.bad is None:
            run.bad = (0, [])
            try:
                self._add_bad(run_id, run, _all(run.upto), run.upto)
            except BaseException:
                run.bad = None
                raise
        return run.bad[0], first_named((int(i), r) for i, r in run.bad[1])

    def cells(self, run_id: int, run: _Run, domains: Sequence[str], origin: float,
              width: float) -> list[tuple[Any, ...]]:
        """``SampleSums.cell_sums`` up to the run's kept rowid, kept for these domains,
        origin and width (summed from the start the first time they are asked)."""
        key = (tuple(domains), float(origin), float(width))
        cells = run.cells.get(key)
        if cells is None:
            cells = {}
            for r in self._read(cells_sql(len(domains), _all(run.upto)),
                                _cell_params(run_id, key[0], origin, width)):
                _add_cell(cells, r)
            while len(run.cells) >= MAX_GRIDS:
                run.cells.pop(next(iter(run.cells)))
            run.cells[key] = cells
        rows = [(d, k, *v) for (d, k), v in cells.items()]
        rows.sort(key=lambda r: (_rank(r[0]), -math.inf if r[1] is None else r[1]))
        return rows


def _cell_params(run_id: int, domains: Sequence[Any], origin: float, width: float
                 ) -> dict[str, Any]:
    named: dict[str, Any] = {"run": run_id, "o": origin, "w": width}
    named.update({f"d{i}": d for i, d in enumerate(domains)})
    return named


def _add_sums(sums: dict[Any, list[Any]], r: Sequence[Any]) -> None:
    """Add one ``_SUMS`` row (a domain's new samples) to the kept sums."""
    got = sums.get(r[0])
    if got is None:
        sums[r[0]] = [r[1], r[2], r[3], int(r[4]), r[5], r[6], int(r[7]), r[8]]
        return
    got[0] += r[1]
    got[1] += r[2]
    got[2] += r[3]
    got[3] += int(r[4])
    got[6] += int(r[7])
    got[7] += r[8]
    if _rank(r[5]) >= _rank(got[4]):  # the newer sample at the same time, as in Python
        got[4], got[5] = r[5], r[6]


def _add_cell(cells: dict[tuple[Any, Any], list[Any]], r: Sequence[Any]) -> None:
    """Add one ``cells_sql`` row to the kept cells."""
    key = (r[0], r[1])
    got = cells.get(key)
    if got is None:
        cells[key] = [int(r[2]), r[3], r[4], r[5], r[6], r[7], r[8]]
        return
    got[0] += int(r[2])
    got[1] = min(got[1], r[3], key=_rank)
    got[2] = max(got[2], r[4], key=_rank)
    for i in (3, 4, 5, 6):
        got[i] += r[i + 2]


class SampleView:
    """A run's samples as of one moment (stored up to a rowid), with the queries pricing
    reads (``carbon.partial.stored_intervals``): kept sums where they are kept, else
    ``SampleSums``'s own queries stopped at that rowid."""

    def __init__(self, owner: GrowingSums, run_id: int, run: _Run) -> None:
        self._owner = owner
        self.run_id = run_id
        self._run = run
        self.upto = run.upto
        #: its sums, as one value: ``carbon.partial`` keeps the cells priced through a view
        #: with it, and prices again where a view's differ (a file replaced or edited in
        #: place, summed again, is priced again at once, not a minute later)
        self.fingerprint = tuple(sorted((repr(d), *map(repr, v)) for d, v in run.sums.items()))

    def _store(self) -> Any:
        store = self._owner._store()
        if store is None:  # pragma: no cover - kept only while the store is
            raise RuntimeError("the store of these sums is closed")
        return store

    @property
    def path(self) -> Any:
        """The file of the store viewed (``carbon.partial`` keeps cells by it)."""
        return getattr(self._store(), "path", None)

    def energy_so_far(self) -> dict[str, dict[str, Any]]:
        """Per domain, as ``Reads.energy_so_far`` gives them: energy, low and high of the
        samples that are not gaps, how many, the time of the last and its power."""
        return _by_domain(self._run.sums)

    def sample_sums(self, run_id: int) -> dict[str, dict[str, Any]]:
        """``SampleSums.sample_sums`` of this moment (``energy_so_far`` without the power)."""
        self._check(run_id)
        out = self.energy_so_far()
        for d in out.values():
            d.pop("power_w", None)
        return out

    def counted_span(self, run_id: int, domains: Sequence[str]) -> tuple[float, float] | None:
        self._check(run_id)
        return self._store().counted_span(run_id, domains, upto=self.upto)  # type: ignore[no-any-return]

    def cell_sums(self, run_id: int, domains: Sequence[str], origin_unix_s: float,
                  width_s: float) -> list[tuple[Any, ...]]:
        self._check(run_id)
        return self._owner.cells(run_id, self._run, domains, origin_unix_s, width_s)

    def first_priceable(self, run_id: int, domain: str, from_unix_s: float) -> Any:
        self._check(run_id)
        return self._store().first_priceable(run_id, domain, from_unix_s, upto=self.upto)

    def cell_firsts(self, run_id: int, domains: Sequence[str], origin_unix_s: float,
                    width_s: float) -> Any:
        self._check(run_id)
        return self._store().cell_firsts(run_id, domains, origin_unix_s, width_s,
                                         upto=self.upto)

    def bad_sample_values(self, run_id: int) -> tuple[int, list[tuple[str, Any]]]:
        self._check(run_id)
        return self._owner.bad(run_id, self._run)

    def samples(self, run_id: int) -> Any:
        """Every sample, read whole: where pricing cannot sum them (a live provider)."""
        self._check(run_id)
        return self._store().samples(run_id)

    def _check(self, run_id: int) -> None:
        if int(run_id) != self.run_id:
            raise ValueError(f"a view of run {self.run_id} asked about run {run_id}")


def _by_domain(sums: dict[Any, list[Any]]) -> dict[str, dict[str, Any]]:
    return {str(d): {"energy_j": v[0], "low_j": v[1], "high_j": v[2],
                     "samples": float(v[3]), "last_unix_s": v[4], "power_w": v[5],
                     "usable": float(v[6])}
            for d, v in sums.items()}


def energy_so_far(read: Callable[[str, tuple[Any, ...]], Sequence[Sequence[Any]]],
                  run_id: int) -> dict[str, dict[str, Any]]:
    """``SampleView.energy_so_far`` of every sample of the run, summed whole in one pass
    (``read``: rows of a query, as ``server._sql.Reads.rows`` gives them)."""
    sums: dict[Any, list[Any]] = {}
    for r in read(_SUMS.format(where="run_id = ?"), (run_id,)):
        _add_sums(sums, r)
    return _by_domain(sums)


_BY_STORE: weakref.WeakKeyDictionary[Any, GrowingSums] = weakref.WeakKeyDictionary()
_REGISTRY = threading.Lock()


def growing(store: Any) -> GrowingSums:
    """The kept sums of ``store``'s runs, one set per store object (as long as it lives):
    the dashboard's runs list, run API and metrics read the same, so they agree."""
    with _REGISTRY:
        got = _BY_STORE.get(store)
        if got is None:
            got = _BY_STORE[store] = GrowingSums(store)
        return got
