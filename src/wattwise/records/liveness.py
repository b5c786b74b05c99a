"""Whether the process that owns a run record is still alive on this host.

A run records the pid that writes it and that process's start time, so a dead
process shows the run as ``lost`` at once, and a reused pid does not keep it alive.
"""

from __future__ import annotations


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
