"""A run's samples summed for pricing inside SQLite: what a run without a summary is
priced from (``carbon.partial.stored_partial_emissions``) without reading a million
samples into Python. ``RunQueries`` (``records.queries``) is a ``SampleSums``: it
supplies the connection (``_read``).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from typing import Any

from wattwise._finite import finite_float as _real
from wattwise.carbon.accounting import MAX_STORED_ENERGY_J, OWN_RANGE_SLACK, usable_energy


def not_gap(table: str = "") -> str:
    """A sample (of ``table``, where a query names it) that is not a gap, as a sample read
    back is one (``bool(gap)`` is false): 0, or the empty text or blob another tool may
    store."""
    gap = f"{table}.gap" if table else "gap"
    return f"({gap} = 0 OR {gap} = '' OR {gap} = X'')"


NOT_GAP = not_gap()

#: The prime 2^31 - 1, modulo which ``SAMPLE_MIX`` mixes a sample's values.
_P = 2147483647


def _mix(*values: str) -> str:
    """``values`` (SQL integers) mixed modulo ``_P``, each step under 2^47."""
    acc = values[0]
    for v in values[1:]:
        acc = f"(({acc}) * 48271 + {v}) % {_P}"
    return acc


#: A number mixed from a sample's rowid, energy, low and high (to the mJ: distinct up
#: to 9.2e15 J, past the most a run may store), times its time (to the ms), modulo
#: ``_P``: summed over a run's samples it changes where a sample is moved in time, or
#: values swapped between two, which every sum of energy and time may keep (the cells
#: kept by a view's ``records.growing_sums.SampleView.fingerprint`` and ``/metrics``'
#: marks, ``records.run_sums.changed_sums``, see it). A mix linear in each value kept
#: the sum for two swapped times two times in three, and one linear in the rowid for
#: moves alike in size about a middle row (+30 s, -60 s, +30 s): the product, with the
#: rowid's square, does not, by chance.
#: It is no hash: an edit built to keep it (a second move cancelling the first) is not
#: seen in place by ``/metrics``. Text, a blob or an infinity is mixed as SQLite casts
#: it; it is no figure.
SAMPLE_MIX = (f"(CAST(t_unix_s * 1e3 AS INTEGER) % {_P}) * ("
              + _mix(f"rowid % {_P} * (rowid % {_P}) % {_P}", *(
                  f"CAST({col} * {scale} AS INTEGER) % {_P}" for col, scale in (
                      ("rowid", "1"), ("energy_j", "1e3"), ("low_j", "1e3"),
                      ("high_j", "1e3"))))
              + f") % {_P}")

#: A stored value that is a finite number (text and blobs sort above every number).
FINITE = "({0} BETWEEN -1.7976931348623157e308 AND 1.7976931348623157e308)"


#: A sample's energy outside its own range (low and high finite numbers, low not above
#: high) by more than ``OWN_RANGE_SLACK`` of the larger bound (``carbon.accounting``).
_SLACK = f"{OWN_RANGE_SLACK!r} * max(abs(low_j), abs(high_j), 1e-9)"
OUTSIDE_OWN = (f"coalesce({FINITE.format('low_j')} AND {FINITE.format('high_j')}"
               f" AND low_j <= high_j"
               f" AND (energy_j < low_j - {_SLACK} OR energy_j > high_j + {_SLACK}), 0)")
#: A stored energy a sample may hold: a number from 0 to the most one stored run may,
#: inside its own range (``carbon.accounting.usable_energy``); anything else is a
#: damaged value. Every sample the meter writes is inside its range, so that is asked
#: first (one comparison; a bound that is text or NULL fails it): the whole check only
#: for the others (asked of every sample, it cost several times the old check).
USABLE_E = (f"(energy_j BETWEEN 0 AND {MAX_STORED_ENERGY_J!r}"
            f" AND (coalesce(energy_j BETWEEN low_j AND high_j, 0) OR NOT {OUTSIDE_OWN}))")
#: A sample pricing reads: not a gap, its time a finite number and its energy usable.
PRICED = f"{FINITE.format('t_unix_s')} AND {USABLE_E}"
PRICEABLE = f"{NOT_GAP} AND {PRICED}"
#: How many of a sample's stored values pricing names as not finite numbers: its time or
#: energy (once), else each of its low and high.
BAD_VALUES = (f"CASE WHEN NOT ({PRICED}) THEN 1 ELSE (NOT {FINITE.format('low_j')})"
              f" + (NOT {FINITE.format('high_j')}) END")
#: A low above its high, both finite numbers: no range, the energy is both bounds.
_NO_RANGE = (f"(low_j > high_j AND {FINITE.format('low_j')}"
             f" AND {FINITE.format('high_j')})")  # asked first: the rare case
#: A sample's energy, low and high as pricing clips them (``carbon.accounting.
#: priced_values``): energy at least 0, low from 0 to it, high at least it; a bound that
#: is not a finite number is the energy, and so are both where there is no range.
CLIPPED_E = "max(0.0, energy_j)"
CLIPPED_LOW = (f"CASE WHEN {_NO_RANGE} THEN {CLIPPED_E} ELSE"
               f" min(max(0.0, CASE WHEN {FINITE.format('low_j')} THEN low_j"
               f" ELSE {CLIPPED_E} END), {CLIPPED_E}) END")
CLIPPED_HIGH = (f"CASE WHEN {_NO_RANGE} THEN {CLIPPED_E} ELSE"
                f" max(CASE WHEN {FINITE.format('high_j')} THEN high_j ELSE {CLIPPED_E} END,"
                f" {CLIPPED_E}) END")


#: Over a run's samples that are not gaps, what a partial figure sums (energy, low,
#: high; ``carbon.sample_energy.sample_sums``): a sample's values only where its energy is
#: usable, a bound only where it is a finite number.
SUMMED = (f"total(CASE WHEN {USABLE_E} THEN energy_j END),"
          f" total(CASE WHEN {USABLE_E} THEN CASE WHEN {_NO_RANGE} THEN energy_j"
          f" WHEN {FINITE.format('low_j')} THEN low_j END END),"
          f" total(CASE WHEN {USABLE_E} THEN CASE WHEN {_NO_RANGE} THEN energy_j"
          f" WHEN {FINITE.format('high_j')} THEN high_j END END)")


def bad_named(i: int, row: Sequence[Any]) -> list[tuple[str, Any]]:
    """The values of sample ``i`` (its time, energy, low and high: ``row``) pricing cannot
    use, as ``carbon.accounting.intervals_from_samples`` names them: its time, else its
    energy (not usable, ``usable_energy``), each alone; else each bound that is not a
    finite number."""
    t, e, lo, hi = row
    if _real(t) is None:
        return [(f"samples[{i}].t_unix_s", t)]
    if usable_energy(e, lo, hi) is None:
        return [(f"samples[{i}].energy_j", e)]
    return [(f"samples[{i}].{key}", v) for key, v in (("low_j", lo), ("high_j", hi))
            if _real(v) is None]


def first_named(placed: Iterable[tuple[int, Sequence[Any]]]) -> list[tuple[str, Any]]:
    """The first five values pricing names, of samples given with their place (``i``
    of ``bad_named``) and their ``BAD_FIRST`` row, in that order."""
    named: list[tuple[str, Any]] = []
    for i, r in placed:
        named.extend(bad_named(i, r[1:]))
    return named[:5]


#: Per domain, over a run's samples that are not gaps: energy, low, high, how many, the
#: last time. One parameter: the run's id.
SUMS_SQL = (f"SELECT domain, {SUMMED}, count(*),"
            f" max(t_unix_s), count(CASE WHEN {USABLE_E} THEN 1 END)"
            f" FROM samples WHERE run_id = ? AND {NOT_GAP} GROUP BY domain")


def upto_rowid(upto: int | None) -> str:
    """A condition that keeps the samples stored up to rowid ``upto`` (all with None): a
    run still recording is priced as of one moment (``records.growing_sums``). The
    ``+`` keeps SQLite on the ``samples_run_t`` index, not the rowid."""
    return "" if upto is None else f" AND +rowid <= {int(upto)}"


def sums_by_domain(rows: Sequence[Sequence[Any]]) -> dict[str, dict[str, float]]:
    """The rows of ``SUMS_SQL`` by domain, as ``carbon.partial.sample_sums`` gives them."""
    return {str(r[0]): {"energy_j": r[1], "low_j": r[2], "high_j": r[3],
                        "samples": float(r[4]), "last_unix_s": r[5], "usable": float(r[6])}
            for r in rows}


#: A sample holding a value pricing names (``BAD_VALUES`` counts them).
BAD_ROW = (f"NOT ({FINITE.format('t_unix_s')} AND {USABLE_E}"
           f" AND {FINITE.format('low_j')} AND {FINITE.format('high_j')})")
#: Over the samples ``{where}`` selects that are not gaps: how many values pricing names.
BAD_COUNT = (f"SELECT total({BAD_VALUES}) FROM samples WHERE {{where}} AND {NOT_GAP}"
             f" AND {BAD_ROW}")
#: Those holding one, the first five in time then stored order (rowid, time, energy,
#: low, high).
BAD_FIRST = ("SELECT rowid, t_unix_s, energy_j, low_j, high_j FROM samples WHERE {where}"
             f" AND {NOT_GAP} AND {BAD_ROW} ORDER BY t_unix_s, rowid LIMIT 5")
#: How many samples that are not gaps come before the one of time ``:t`` and rowid ``:r``.
BEFORE = ("SELECT count(*) FROM samples WHERE {where}"
          f" AND {NOT_GAP} AND (t_unix_s < :t OR (t_unix_s = :t AND rowid < :r))")


def bad_rows(read: Any, where: str, named: dict[str, Any]
             ) -> tuple[int, list[tuple[Any, ...]]]:
    """How many values pricing names among the samples ``where`` selects, and the first
    five samples holding one (``BAD_FIRST``); ``read``: rows of a query."""
    n = int(read(BAD_COUNT.format(where=where), named)[0][0] or 0)
    return n, ([tuple(r) for r in read(BAD_FIRST.format(where=where), named)] if n else [])


def place_before(read: Any, where: str, named: dict[str, Any], row: Sequence[Any]) -> int:
    """How many of the samples ``where`` selects that are not gaps come before ``row``
    (a ``BAD_FIRST`` row) in time then stored order: its place among them."""
    return int(read(BEFORE.format(where=where), {**named, "t": row[1], "r": row[0]})[0][0])


def cells_sql(domains: int, where: str) -> str:
    """``SampleSums.cell_sums``'s query over the samples ``where`` selects, for that many
    domains (``:d0``...) and the parameters ``:o`` (origin) and ``:w`` (width): per
    domain and cell, as that method says; its rows by domain and cell."""
    marks = ",".join(f":d{i}" for i in range(domains)) or "NULL"
    return (f"SELECT domain, CASE WHEN {PRICED} AND domain IN ({marks})"
            " THEN CAST((t_unix_s - :o) / :w AS INTEGER) END AS k, count(*),"
            f" min(t_unix_s), max(t_unix_s), total({CLIPPED_E}), total({CLIPPED_LOW}),"
            f" total({CLIPPED_HIGH}),"
            f" total({BAD_VALUES}) FROM samples WHERE {where} AND {NOT_GAP}"
            " GROUP BY domain, k ORDER BY domain, k")


#: A sample's cell of ``:w`` seconds from ``:o``, by its time.
CELL = "CAST((t_unix_s - :o) / :w AS INTEGER)"
#: A sample whose interval may begin before ``:t0`` though it is read after it (its
#: energy over its power reaches back that far, within a millisecond): the window's
#: edge cuts it (``carbon.accounting.clip_to_window``), so it is read one by one.
REACHES_BACK = (f"{FINITE.format('power_w')} AND energy_j > 0 AND power_w > 0 AND NOT"
                " coalesce((energy_j * 1.0) / power_w < (t_unix_s - :t0) * 0.999999 - 0.001, 0)")
#: A stored sample as ``carbon.summary_sums.summary_intervals`` reads one at an edge.
EDGE_COLUMNS = (f"rowid, t_unix_s, domain, energy_j, power_w, low_j, high_j, {CELL},"
                f" {CLIPPED_E}, {CLIPPED_LOW}, {CLIPPED_HIGH}")


class SampleSums:
    """The sums of a run's samples pricing needs, each one query."""

    def _read(self, sql: str, params: Sequence[Any] = ()) -> list[sqlite3.Row]:
        raise NotImplementedError

    def newest_rowid(self) -> int:
        """The rowid of the newest sample stored, 0 with none: a read stopped there
        (``upto``) is of this moment. One lookup."""
        return int(self._read("SELECT coalesce(max(rowid), 0) FROM samples")[0][0])

    def sample_count(self, run_id: int, *, gaps_only: bool = False) -> int:
        """How many samples the run stored (gaps too), counted in its index; with
        ``gaps_only``, how many of them are gaps (failed reads, which count nothing)."""
        where = f" AND NOT {NOT_GAP}" if gaps_only else ""
        return int(self._read(f"SELECT count(*) FROM samples WHERE run_id = ?{where}",
                              (run_id,))[0][0])

    def gaps_by_domain(self, run_id: int) -> dict[Any, int]:
        """How many of the run's samples are gaps (failed reads), per domain."""
        return {r[0]: int(r[1]) for r in self._read(
            f"SELECT domain, count(*) FROM samples WHERE run_id = ? AND NOT {NOT_GAP}"
            " GROUP BY domain", (run_id,))}

    def sample_sums(self, run_id: int) -> dict[str, dict[str, float]]:
        """Per domain: energy, low and high summed over the samples that are not gaps, how
        many, and the time of the last: ``carbon.partial.sample_sums`` inside SQLite, as
        the dashboard takes them (``server._sql.Reads.energy_so_far``)."""
        return sums_by_domain(self._read(SUMS_SQL, (run_id,)))

    def counted_span(self, run_id: int, domains: Sequence[str], upto: int | None = None
                     ) -> tuple[float, float] | None:
        """The first and last time of the priceable samples of ``domains`` (not gaps, time
        and energy finite numbers), or None without any: two index lookups."""
        if not domains:
            return None
        marks = ",".join("?" * len(domains))
        where = f"run_id = ? AND {PRICEABLE} AND domain IN ({marks}){upto_rowid(upto)}"
        got = []
        for order in ("", " DESC"):
            rows = self._read(f"SELECT t_unix_s FROM samples WHERE {where}"
                              f" ORDER BY t_unix_s{order} LIMIT 1", (run_id, *domains))
            if not rows:
                return None
            got.append(float(rows[0][0]))
        return got[0], got[1]

    def cell_sums(
        self, run_id: int, domains: Sequence[str], origin_unix_s: float, width_s: float,
        upto: int | None = None,
    ) -> list[sqlite3.Row]:
        """The priceable samples of ``domains`` (not gaps, time and energy finite numbers)
        summed inside SQLite per domain and per cell ``width_s`` wide from ``origin_unix_s``
        (by the sample's time), their energy, low and high clipped as pricing clips them
        (``carbon.accounting.intervals_from_samples``). Each row: domain, cell, how many,
        the first and last time, the sums of energy, low and high, and how many stored
        values are not finite numbers (as ``bad_sample_values`` counts them); by domain and
        cell. The samples pricing leaves out (another domain, a time or energy that is not
        a number) are in rows whose cell is None. One pass through the run's samples
        (those stored up to rowid ``upto``: ``upto_rowid``)."""
        named: dict[str, Any] = {"run": run_id, "o": origin_unix_s, "w": width_s}
        named.update({f"d{i}": d for i, d in enumerate(domains)})
        return self._read(cells_sql(len(domains), f"run_id = :run{upto_rowid(upto)}"),
                          named)  # type: ignore[arg-type]

    def first_priceable(self, run_id: int, domain: str, from_unix_s: float,
                        upto: int | None = None) -> Any:
        """The first priceable sample of ``domain`` at or after ``from_unix_s`` (in time,
        then stored, order): its time and clipped energy, low and high, or None."""
        rows = self._read(
            f"SELECT t_unix_s, {CLIPPED_E}, {CLIPPED_LOW}, {CLIPPED_HIGH} FROM samples"
            " WHERE run_id = ?"
            f" AND {PRICEABLE} AND domain = ? AND t_unix_s >= ?{upto_rowid(upto)}"
            " ORDER BY t_unix_s, rowid LIMIT 1", (run_id, domain, from_unix_s))
        return rows[0] if rows else None

    def cell_firsts(self, run_id: int, domains: Sequence[str], origin_unix_s: float,
                    width_s: float, upto: int | None = None) -> dict[tuple[str, int], Any]:
        """``first_priceable`` of every domain and cell of ``cell_sums`` at once: per
        ``(domain, cell)``, its first priceable sample (in time, then stored, order), its
        time and clipped energy, low and high. For a pricing cut into thousands of cells
        (a trace of one-second steps), where one lookup per cell took seconds in all: one
        pass per domain through the run's index, in its order (time, then rowid), keeping
        each sample whose cell is not the one of the sample before it (a cell's samples
        follow each other in time), so nothing is sorted."""
        cell = "CAST((t_unix_s - :o) / :w AS INTEGER)"
        out: dict[tuple[str, int], Any] = {}
        for domain in dict.fromkeys(domains):
            rows = self._read(
                f"SELECT k, t_unix_s, {CLIPPED_E}, {CLIPPED_LOW}, {CLIPPED_HIGH} FROM"
                f" (SELECT {cell} AS k, lag({cell}) OVER (ORDER BY t_unix_s, rowid) AS before,"
                " t_unix_s, energy_j, low_j, high_j FROM samples"
                f" WHERE run_id = :run AND {PRICEABLE} AND domain = :d{upto_rowid(upto)})"
                " WHERE k IS NOT before",
                {"run": run_id, "o": origin_unix_s, "w": width_s,
                 "d": domain})  # type: ignore[arg-type]
            out.update({(str(domain), int(r[0])): tuple(r[1:]) for r in rows})
        return out

    def bad_sample_values(self, run_id: int, upto: int | None = None
                          ) -> tuple[int, list[tuple[str, Any]]]:
        """The stored sample values that are not finite numbers (an energy: not usable,
        ``USABLE_E``), as pricing names them
        (``carbon.accounting.intervals_from_samples``): how many, and the first five as
        ``("samples[i].key", value)``, ``i`` a sample's place among the run's samples that
        are not gaps, in time order. A sample whose time (else energy) is not one counts
        once; else each of its low and high that is not."""
        where, named = f"run_id = :run{upto_rowid(upto)}", {"run": run_id}
        n, rows = bad_rows(self._read, where, named)
        return n, first_named((place_before(self._read, where, named, r), r) for r in rows)

    def window_cells(self, run_id: int, domains: Sequence[str], t0: float, t1: float,
                     origin_unix_s: float, width_s: float) -> list[sqlite3.Row]:
        """As ``cell_sums``, over the samples read in ``(t0, t1]`` (gaps too); the rows
        of every other sample have no cell, and every row counts its values that are
        not finite numbers, and the first and last time of its samples that
        ``REACHES_BACK`` (``window_edges`` reads those one by one). One pass through the
        run's samples."""
        marks = ",".join(f":d{i}" for i in range(len(domains))) or "NULL"
        back = (f"CASE WHEN {PRICED} AND t_unix_s > :t0 AND t_unix_s <= :t1 AND"
                f" {REACHES_BACK} THEN t_unix_s END")
        named: dict[str, Any] = {"run": run_id, "o": origin_unix_s, "w": width_s,
                                 "t0": t0, "t1": t1}
        named.update({f"d{i}": d for i, d in enumerate(domains)})
        return self._read(
            f"SELECT domain, CASE WHEN {PRICED} AND domain IN ({marks})"
            f" AND t_unix_s > :t0 AND t_unix_s <= :t1 THEN {CELL} END AS k, count(*),"
            f" min(t_unix_s), max(t_unix_s), total({CLIPPED_E}), total({CLIPPED_LOW}),"
            f" total({CLIPPED_HIGH}), total({BAD_VALUES}), min({back}), max({back})"
            " FROM samples WHERE run_id = :run GROUP BY domain, k ORDER BY domain, k",
            named)  # type: ignore[arg-type]

    def window_firsts(self, run_id: int, domain: str, t0: float, t1: float,
                      origin_unix_s: float, width_s: float) -> dict[int, Any]:
        """Per cell of ``window_cells``, the first sample of ``domain`` in it (time, then
        stored, order): its rowid, time and clipped energy, low and high."""
        rows = self._read(
            f"SELECT k, rowid, t_unix_s, {CLIPPED_E}, {CLIPPED_LOW}, {CLIPPED_HIGH} FROM"
            f" (SELECT {CELL} AS k, lag({CELL}) OVER (ORDER BY t_unix_s, rowid) AS before,"
            " rowid, t_unix_s, energy_j, low_j, high_j FROM samples WHERE run_id = :run"
            f" AND {PRICED} AND domain = :d AND t_unix_s > :t0 AND t_unix_s <= :t1)"
            " WHERE k IS NOT before",
            {"run": run_id, "o": origin_unix_s, "w": width_s, "d": domain, "t0": t0,
             "t1": t1})  # type: ignore[arg-type]
        return {int(r[0]): tuple(r[1:]) for r in rows}

    def window_edges(self, run_id: int, domain: str, t0: float, t1: float,
                     origin_unix_s: float, width_s: float, limit: int,
                     back: tuple[float, float] | None = None,
                     ) -> dict[str, list[sqlite3.Row]] | None:
        """The samples of ``domain`` (time and energy finite numbers, gaps too) that the
        window's edges may cut, each ``EDGE_COLUMNS``, in time then stored order: the
        last before ``t0`` and the last at or before ``t1`` (each the one before the
        next), those at ``t0``, the first after it, those in the window that may reach
        back before ``t0`` (``REACHES_BACK``) and those after ``t1``. None where one of
        them holds more than ``limit``: too many to read one by one. ``back``: the
        first and last time of those that reach back (``window_cells``), None without
        any: only the samples between are looked through."""
        b0, b1 = back if back is not None else (t0, t0)
        named: Any = {"run": run_id, "d": domain, "t0": t0, "t1": t1, "o": origin_unix_s,
                      "w": width_s, "n": limit + 1, "b0": b0, "b1": b1}
        # ``+``: the window's bounds, not the finite range, pick the index's rows
        priced = f"{FINITE.format('+t_unix_s')} AND {USABLE_E}"
        base = (f"SELECT {EDGE_COLUMNS} FROM samples WHERE run_id = :run AND domain = :d"
                f" AND {priced} AND ")
        up, down = " ORDER BY t_unix_s, rowid LIMIT :n", " ORDER BY t_unix_s DESC, rowid DESC"
        out = {
            "before": self._read(base + "t_unix_s < :t0" + down + " LIMIT 1", named),
            "at": self._read(base + "t_unix_s = :t0" + up, named),
            "first": self._read(base + "t_unix_s > :t0" + up.replace(":n", "1"), named),
            "back": [] if back is None else self._read(
                base + f"t_unix_s >= :b0 AND t_unix_s <= :b1 AND t_unix_s > :t0 AND"
                f" t_unix_s <= :t1 AND {REACHES_BACK}" + up, named),
            "last": self._read(base + "t_unix_s <= :t1" + down + " LIMIT 1", named),
            "after": self._read(base + "t_unix_s > :t1" + up, named),
        }
        if any(len(rows) > limit for rows in out.values()):
            return None
        return out  # type: ignore[return-value]

    def bad_values_named(self, run_id: int, limit: int = 5) -> list[tuple[str, Any]]:
        """The first stored sample values that are not finite numbers (gaps too), as
        ``carbon.accounting.intervals_from_samples`` names them: ``samples[i].key``, ``i``
        a sample's place among all the run's samples in ``samples``' order."""
        named: list[tuple[str, Any]] = []
        for r in self._read(
                "SELECT rn, t_unix_s, energy_j, low_j, high_j FROM (SELECT row_number() OVER"
                " (ORDER BY t_unix_s, rowid) - 1 AS rn, t_unix_s, energy_j, low_j, high_j"
                f" FROM samples WHERE run_id = ?) WHERE {BAD_ROW} ORDER BY rn LIMIT ?",
                (run_id, limit)):
            named.extend(bad_named(int(r[0]), r[1:]))
        return named[:limit]
