"""At interpreter exit: the run records still queued written, then every connection
closed (the last close of a WAL database folds the WAL back into the file, so copying the
``.db`` file alone after the program ends copies every run).

Where another process holds the database, the exit waits for it (``WATTWISE_EXIT_FLUSH_S``,
120 s by default) and says so; the rows it gives up on are counted in one line, whatever
ends the wait (its time, Ctrl-C, SIGTERM, the program's own handler exiting or raising),
and said once: the writer's own refusal of them afterwards adds no second line.
"""

from __future__ import annotations

import sys
import warnings
from collections.abc import Callable
from typing import Any

Databases = Callable[[], list[Any]]


def flush_and_close(databases: Databases, flush_all: Callable[[float], int],
                    rows_queued: Callable[[], int]) -> None:
    from wattwise.measure.warning_lines import warnings_as_lines
    from wattwise.records.exit_signals import stops_as_interrupt

    # a write the wait below ends in (the file found another program's): one line, as
    # the wait's own (its command has ended); SIGTERM during the wait as Ctrl-C
    with warnings_as_lines(lambda text: print(f"wattwise: warning: {text}", file=sys.stderr)), \
            stops_as_interrupt():
        counted = _wait(flush_all, rows_queued)
        with warnings.catch_warnings():
            if counted:  # the rows given up on are said: not again as the writer's refusal
                warnings.simplefilter("ignore")
            _close(databases)


def _wait(flush_all: Callable[[float], int], rows_queued: Callable[[], int]) -> bool:
    """Wait for the queued rows; whether some were given up on (and said so)."""
    from wattwise.records.exit_signals import EXIT_FLUSH_ENV, exit_flush_s

    lost = "rows of run records were not written (the run database is locked by another " \
        "process)"
    try:
        if not rows_queued() or flush_all(1.0) == 0:
            return False
        limit = exit_flush_s()
        print(f"wattwise: waiting up to {limit:g} s for the run database to take "
              f"{rows_queued()} queued rows (it is locked by another process)", file=sys.stderr)
        left = flush_all(limit)
        if left:
            print(f"wattwise: {left} rows of run records were not written: the database "
                  f"stayed locked for {limit:g} s (set {EXIT_FLUSH_ENV} to wait longer)",
                  file=sys.stderr)
        return bool(left)
    except (KeyboardInterrupt, SystemExit):  # the wait given up (Ctrl-C, a signal, the
        # program's own SIGTERM handler exiting): said in one line, not a traceback
        print(f"wattwise: interrupted: {rows_queued()} {lost}", file=sys.stderr)
    except Exception as exc:  # noqa: BLE001 - never a traceback at interpreter exit
        # the program's own signal handler raising, or the wait's own failure: named
        print(f"wattwise: the wait for the run database ended ({type(exc).__name__}: {exc}): "
              f"{rows_queued()} {lost}", file=sys.stderr)
    return True


#: How long the exit waits for each writer to close its file, seconds (as ``release``).
CLOSE_WAIT_S = 5.0


def _close(databases: Databases) -> None:
    try:
        for db in databases():
            db._close_readers()
            db.writer.shutdown()
        for db in databases():  # its close folds the -wal into the file: seconds on a busy
            db.writer.join(CLOSE_WAIT_S)  # machine, and the -wal stays where it is cut off
    except (KeyboardInterrupt, SystemExit):  # a second Ctrl-C: the close given up too
        return
    except Exception as exc:  # noqa: BLE001 - never a traceback at interpreter exit
        print(f"wattwise: closing the run database at exit failed: {exc}", file=sys.stderr)
