"""What a status filter of the runs list selects, in Python and in SQL alike.

Every output shows a run as running, lost, finished, failed or interrupted; ``lost`` is
also a run stored as running whose process is gone (``_live``), and a run stored as
``lost`` (another tool's or an older version's record). A status wattwise never writes
(another tool's, a damaged row, one stored as a blob) is shown as stored, and
``/metrics`` counts it as ``status="other"``: the filter ``other`` selects those runs.
"""

from __future__ import annotations

from typing import Any

#: The statuses every output shows a run with, in the order ``/metrics`` gives them.
STATUSES = ("running", "lost", "finished", "failed", "interrupted")
#: A status wattwise never writes, as a filter and a ``/metrics`` label.
OTHER = "other"
#: What the list's status filter takes (none: every run).
FILTERS = (*STATUSES, OTHER)


def stored_as(status: str) -> tuple[str, ...]:
    """The stored statuses a status filter selects (none: every run; ``other``: those
    not among ``STATUSES``, :func:`selects`): ``lost`` selects the runs stored as running
    (those whose process is gone: ``_live``) and those stored as ``lost``, which no
    wattwise writer stores but another tool's or an older version's record can, and
    which every output shows lost."""
    if status == OTHER:
        return ()
    return ("running", "lost") if status == "lost" else (status,) if status else ()


def selects(status: str, stored: Any) -> bool:
    """Whether the filter ``status`` selects a run stored with ``stored`` (its status as
    the runs index keeps it: the stored text, or what stands for a value that is none)."""
    if not status:
        return True
    if status == OTHER:
        return not (isinstance(stored, str) and stored in STATUSES)
    return stored in stored_as(status)


def status_sql(status: str, column: str = "status") -> tuple[str, list[str]]:
    """The SQL condition on ``column`` of the filter ``status`` (not empty), and its
    parameters: a blob or NULL is no status wattwise writes, so ``other`` selects it."""
    if status == OTHER:
        return (f"({column} IS NULL OR typeof({column}) <> 'text' OR {column} NOT IN"
                f" ({', '.join('?' * len(STATUSES))}))", list(STATUSES))
    statuses = stored_as(status)
    return f"{column} IN ({', '.join('?' * len(statuses))})", list(statuses)
