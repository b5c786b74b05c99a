"""The note on holes in a run's sampling (the recorder stopped, the machine slept) for
every output, in the words the run page's timeline gives it.

The timeline finds a hole in its buckets (``server.timeline_holes.mark_holes``): an
interval between two samples of a domain longer than ``HOLE_TIMES`` its usual one and
``HOLE_MIN_S`` more that leaves at least one bucket empty. Summing a million samples into
buckets takes a second or more, so ``show`` and the API do that only where a hole may lie:
a hole leaves, in the domain it is in, a stretch of time longer than half its length
without a sample. Cells of half the narrowest length a hole can have are probed through
the samples' index (a few rows each); only where some domain has an empty cell between
its first and last sample are the buckets summed, exactly as the page's timeline sums them
(``TIMELINE_POINTS``), so the note is the one the page gives, word for word. A run of
fewer samples is summed only where two samples of a domain lie further apart than the
shortest hole (``_far_apart``).
"""

from __future__ import annotations

import math
from typing import Any

from wattwise._finite import finite_float as _finite
from wattwise.server.timeline_holes import HOLE_MIN_S

#: The points the run page asks its timeline for (``/api/runs/ID/timeline``'s default):
#: the holes it draws are those every output counts.
TIMELINE_POINTS = 600

#: Runs of at most this many samples are summed into buckets at once (a few ms).
SUMMED_AT_ONCE = 20_000

#: The most cells probed (one indexed query of a few rows each: about 0.1 s for all)
#: before summing the buckets instead.
MAX_CELLS = 4_000

#: The rows read at each cell's start: enough to meet every domain of a recorder that reads
#: them all at each tick.
ROWS_PER_DOMAIN = 4

_BIG = 1.7976931348623157e308

#: The first rows (?4 of them) of run ?1 from time ?2 to before ?3, through the index.
_CELL_SQL = ("SELECT domain FROM samples WHERE run_id = ?1 AND t_unix_s >= ?2"
             " AND t_unix_s < ?3 ORDER BY t_unix_s LIMIT ?4")


class _Reads:
    """``store._read`` as ``server.timeline.drawn_buckets`` reads (``server._sql.Reads``)."""

    def __init__(self, read: Any) -> None:
        self.rows = read

    def buckets(self, run_id: int, t0: float, width_s: float, samples: int = -1,
                cut: float | None = None, epoch: int | None = None) -> Any:
        from wattwise.server.timeline import BUCKETS_SQL

        return self.rows(BUCKETS_SQL, (t0, width_s, run_id, cut))


def hole_notes(store: Any, record: Any, reads: Any = None) -> list[str]:
    """The note the run page's timeline gives on the holes in run ``record``'s sampling
    (``server.timeline_holes.hole_note``), [] where it has none; ``store`` reads with
    ``_read(sql, params)``; the buckets, where summed, with ``reads`` where given (the
    dashboard's ``server._sql.Reads``, which keeps them: the page's timeline asks the
    same buckets)."""
    from wattwise.server.sample_span import FAST_SPAN_SQL, NUMERIC_SPAN_SQL

    start = _finite(getattr(record, "started_unix_s", None))
    if start is None:
        return []
    rid = int(record.id)
    count, first, last = store._read(FAST_SPAN_SQL, (rid,))[0]
    if not count:
        return []
    first, last = _finite(first), _finite(last)
    if first is None or last is None:  # a time that is not a number: as the page reads it
        span = store._read(NUMERIC_SPAN_SQL, (rid,))[0]
        return _summed_hole_note(store, record, int(span[0]), _finite(span[1]), reads)
    if int(count) > SUMMED_AT_ONCE:
        if not _may_hold_hole(store, record, rid, start, first, last):
            return []
    elif not _far_apart(store, rid) and _edges(record, start, first, last) <= HOLE_MIN_S:
        return []
    return _summed_hole_note(store, record, int(count), last, reads)


def _edges(record: Any, start: float, first: float, last: float) -> float:
    """The longer of the stretches without a sample at the run's start and before its
    recorded end (0 where it has none, or is running): one longer than the shortest hole
    and a bucket is drawn as a hole (``server.timeline_holes.mark_edges``)."""
    ended = _finite(getattr(record, "ended_unix_s", None))
    tail = 0.0 if ended is None or getattr(record, "status", None) == "running" \
        else ended - last
    return max(first - start, tail, 0.0)


#: The longest interval between two samples of one domain of run ?1, in time order
#: (NULL where no domain has two): one sort inside SQLite, a few ms for 20,000 samples.
_LONGEST_SQL = ("SELECT max(t_unix_s - before) FROM (SELECT t_unix_s, lag(t_unix_s) OVER"
                " (PARTITION BY domain ORDER BY t_unix_s) AS before FROM samples"
                " WHERE run_id = ?)")


def _far_apart(store: Any, rid: int) -> bool:
    """Whether two samples of a domain lie more than ``HOLE_MIN_S`` apart with none
    between: a hole the timeline draws is an interval longer than that (its usual
    interval and ``HOLE_MIN_S`` more), so where none is, summing the buckets (tens of ms
    in Python for a few thousand samples) finds none. Every time is a number here (the
    run's first and last are)."""
    longest = store._read(_LONGEST_SQL, (rid,))[0][0]
    return longest is not None and not float(longest) <= HOLE_MIN_S


def _may_hold_hole(store: Any, record: Any, rid: int, start: float, first: float,
                   last: float) -> bool:
    """Whether some domain of the run has no sample in a cell between its first and last
    (or the probe cannot tell): a hole the timeline draws is longer than a bucket of its
    narrowest width and than ``HOLE_MIN_S``, so cells of half that find it."""
    from wattwise.carbon.sample_energy import timeline_end
    from wattwise.server.timeline import bucket_width

    end, _alive = timeline_end(record, store._read)
    ended = _finite(getattr(record, "ended_unix_s", None))
    span = max(x for x in (last, ended, start) if x is not None)
    width = bucket_width(start, span, TIMELINE_POINTS)
    if end is not None:  # the width once samples after the end are left out
        width = min(width, bucket_width(start, end, TIMELINE_POINTS))
    cell = max(width, HOLE_MIN_S) / 2
    if _edges(record, start, first, last) > max(width, HOLE_MIN_S):
        return True  # a stretch at its start or end that may be one (``mark_edges``)
    cells = math.floor((last - first) / cell) + 1
    named = _named_domains(record)
    if cells > MAX_CELLS:
        return True
    seen: list[set[str]] = []
    limit = ROWS_PER_DOMAIN * max(1, len(named))
    for k in range(cells):
        a = first + k * cell
        rows = store._read(_CELL_SQL, (rid, a, a + cell if k < cells - 1 else _BIG, limit))
        seen.append({str(r[0]) for r in rows})
    domains = set().union(*seen)
    if not named <= domains:
        return True  # a domain the probes did not meet: cannot tell
    for d in domains:
        where = [k for k, s in enumerate(seen) if d in s]
        if where[-1] - where[0] + 1 > len(where):
            return True  # a cell between two of its samples without one, as far as read
    return False


def _named_domains(record: Any) -> set[str]:
    """The domains the run's sensors name (a damaged list names none)."""
    names: set[str] = set()
    sensors = getattr(record, "sensors", None)
    for s in sensors if isinstance(sensors, list) else []:
        for d in (s.get("domains") if isinstance(s, dict) else None) or []:
            if isinstance(d, dict) and isinstance(d.get("name"), str):
                names.add(d["name"])
    return names


def _summed_hole_note(store: Any, record: Any, samples: int, last: float | None,
                      reads: Any = None) -> list[str]:
    """``hole_note`` of the run's ``samples`` (the last at ``last``) summed into buckets as
    the page's timeline sums them (``server.data.timeline_payload``: ``drawn_buckets``)."""
    from wattwise.server.timeline import drawn_buckets
    from wattwise.server.timeline_holes import edge_note, hole_note

    _width, domains, _end = drawn_buckets(_Reads(store._read) if reads is None else reads,
                                          record, last, samples, TIMELINE_POINTS)
    return hole_note(domains) + edge_note(domains)

