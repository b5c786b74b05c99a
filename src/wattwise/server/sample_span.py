"""How many samples a run has and where they end in time, read through the samples' index
where every stored time is a number (``sample_span``): the timeline's first read of a
run, and the hole notes' (``records.sample_holes``)."""

from __future__ import annotations

from typing import Any

from wattwise._finite import finite_float as _finite

#: The run's samples and their first and last time, read through the samples' index. SQLite
#: orders text and blobs after every number: where both ends are finite numbers, every
#: stored time is one, and ``NUMERIC_SPAN_SQL`` (which reads every sample) is not needed.
FAST_SPAN_SQL = "SELECT count(*), min(t_unix_s), max(t_unix_s) FROM samples WHERE run_id = ?"

#: The run's samples and, of those whose time is a finite number, the last time, and how
#: many are not (text, a blob or an infinity stored in ``t_unix_s``). One parameter: the
#: run's id.
NUMERIC_SPAN_SQL = (
    "SELECT count(*),"
    " max(CASE WHEN typeof(t_unix_s) IN ('integer', 'real')"
    "     AND abs(t_unix_s) <= 1.7976931348623157e308 THEN t_unix_s END),"
    " count(CASE WHEN NOT (typeof(t_unix_s) IN ('integer', 'real')"
    "     AND abs(t_unix_s) <= 1.7976931348623157e308) THEN 1 END)"
    " FROM samples WHERE run_id = ?"
)

def sample_span(reads: Any, run_id: int) -> tuple[int, float | None, int]:
    """A run's samples, the last finite time among them and how many have a time that is
    not a finite number (``reads``: ``server._sql.Reads``). A time stored as text, a blob
    or an infinity sorts first or last: only then is every sample walked to count them (a
    million samples: about a second)."""
    span = reads.rows(FAST_SPAN_SQL, (run_id,))[0]
    if _finite(span[1]) is not None and _finite(span[2]) is not None:
        return int(span[0]), _finite(span[2]), 0
    span = reads.rows(NUMERIC_SPAN_SQL, (run_id,))[0]
    return int(span[0]), _finite(span[1]), int(span[2])
