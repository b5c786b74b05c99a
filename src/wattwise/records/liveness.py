"""Whether the process that owns a run record is still alive on this host.

A run records the pid that writes it and that process's start time, so a dead
process shows the run as ``lost`` at once, and a reused pid does not keep it alive.

``status_of`` is the rule ``RunQueries`` applies to a run's row, from its few
columns alone, so that the dashboard can decide it for every run stored as
running (thousands, after many killed jobs) without reading each whole record;
``gone`` makes a dead pid cheap to tell (one system call, not a process object).
"""

from __future__ import annotations

import os
from typing import Any

from wattwise._finite import finite_float as _num


def hostname() -> str:
    from wattwise.measure.host import hostname as _hostname

    return _hostname()


def process_start(pid: int) -> float | None:
    """Start time of ``pid``, so a reused pid is not taken for the run's process."""
    import psutil

    try:
        return float(psutil.Process(pid).create_time())
    except psutil.Error:  # no such process, no permission
        return None


def pid_alive(pid: int, started_unix_s: float | None) -> bool:
    """True if ``pid`` runs here, is not a zombie, and (if known) started when recorded."""
    import psutil

    try:
        proc = psutil.Process(pid)
        if proc.status() == psutil.STATUS_ZOMBIE:
            return False
        return started_unix_s is None or abs(proc.create_time() - started_unix_s) <= 1.0
    except psutil.NoSuchProcess:
        return False
    except psutil.Error:  # AccessDenied and the like: it exists
        return True
    except (OverflowError, ValueError):  # a pid no process can have
        return False


def gone(pid: int) -> bool:
    """True where no process (nor thread) has ``pid`` now, so ``pid_alive`` would say
    False: a signal 0 tells it in one system call. False where that cannot tell (it
    exists, belongs to another user, or this is not a POSIX system): ask ``pid_alive``."""
    if os.name != "posix" or pid <= 0:  # pid 0 and below name process groups to kill()
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except (OSError, OverflowError, ValueError):
        return False
    return False


def stored_status(status: Any) -> str:
    """A stored status as text: a blob as SQLite writes one (``x'66696e6973686564'``, what
    ``quote(status)`` gives, so that it can be found with SQL), matching no status
    wattwise writes, as SQL compares it; anything else its ``str``."""
    return f"x'{status.hex()}'" if isinstance(status, bytes) else str(status)


def stored_name(value: Any) -> str:
    r"""A stored name as text: one stored as a blob by another program decoded as a text
    column is (bytes that are not UTF-8 as ``\xNN``), in every output alike."""
    return value.decode("utf-8", "backslashreplace") if isinstance(value, bytes) else str(value)


def status_of(
    status: Any, host: Any, pid: Any, pid_started_unix_s: Any, heartbeat_unix_s: Any,
    started_unix_s: Any, *, here: str, now: float, stale_after_s: float,
) -> str:
    """A run's status from its row's columns (``status``, ``hostname``, ``pid``,
    ``pid_started_unix_s``, ``heartbeat_unix_s``, ``started_unix_s``) as stored:
    ``running`` as stored, or ``lost``: on this host (``here``) as soon as its process
    is gone; on another host (whose processes can't be seen) once its heartbeat (or,
    without one, or with one before its start, which is not usable: its start) is older
    than ``stale_after_s`` at ``now``, or lies further than that ahead of ``now`` (a
    damaged record: no sign of life). The rule of
    ``RunQueries._status``, which ``tests/records/test_liveness.py`` holds them to."""
    status = stored_status(status)
    if status != "running":
        return status
    pid = pid if isinstance(pid, int) and not isinstance(pid, bool) else None
    if pid is not None and host == here:
        if gone(pid):
            return "lost"
        return "running" if pid_alive(pid, _num(pid_started_unix_s)) else "lost"
    last, start = _num(heartbeat_unix_s), _num(started_unix_s)
    if last is not None and start is not None and last < start:
        last = None  # before its start: not usable (``records.queries.heartbeat_fault``)
    last = start if last is None else last
    # a time further ahead of this clock than the staleness (1e10: the year 2286) is a
    # damaged record, no sign of life: the run is not kept running by it for ever
    return ("running" if last is not None and -stale_after_s <= now - last <= stale_after_s
            else "lost")

