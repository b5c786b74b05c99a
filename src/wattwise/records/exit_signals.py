"""The exit's wait for run records queued for a locked run database, and SIGTERM and
SIGHUP while they are queued.

- During the exit wait they are taken as Ctrl-C is there (one line counting the rows not
  written, and the command's own exit code). Before, the process died by the signal,
  silently, its record lost: a CI job's timeout sends SIGTERM, often while another job
  holds the database.
- Between a tracked run's end and that wait (the program goes on, saving a checkpoint),
  the signal still ends the program as it would have, by the signal, but not before one
  line counts the rows it loses.

A handler the program set itself, or a signal it ignores (``nohup``'s SIGHUP), is left
alone; outside the main thread, where no handler can be set, nothing changes.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from typing import Any

#: The signals that end a program the way Ctrl-C does (those this platform has).
STOPS = tuple(getattr(signal, name) for name in ("SIGTERM", "SIGHUP") if hasattr(signal, name))

#: At exit, how long to wait for queued run records (a lock held by another process).
EXIT_FLUSH_ENV = "WATTWISE_EXIT_FLUSH_S"
EXIT_FLUSH_S = 120.0


def exit_flush_s() -> float:
    """How long the exit waits for queued rows: ``WATTWISE_EXIT_FLUSH_S``, else 120 s."""
    raw = os.environ.get(EXIT_FLUSH_ENV, "").strip()
    if not raw:
        return EXIT_FLUSH_S
    try:
        value = float(raw)
        if value >= 0 and value == value and value != float("inf"):
            return value
    except ValueError:
        pass
    print(f"wattwise: {EXIT_FLUSH_ENV}={raw!r} is not a number of seconds >= 0; "
          f"waiting {EXIT_FLUSH_S:g} s", file=sys.stderr)
    return EXIT_FLUSH_S


#: How many rows are queued, asked when the signal comes (``database.rows_queued``).
_queued: list[Callable[[], int]] = []


def _say_then_die(signum: int, frame: Any) -> None:
    rows = _queued[0]() if _queued else 0
    if rows:
        print(f"wattwise: terminated: {rows} rows of run records were not written (the run "
              "database is locked by another process)", file=sys.stderr, flush=True)
    signal.signal(signum, signal.SIG_DFL)
    os.kill(os.getpid(), signum)


def is_default(handler: Any) -> bool:
    """The signal's action is still Python's default (ours that only says so included)."""
    return handler is signal.SIG_DFL or handler is _say_then_die


def said_when_killed(rows_queued: Callable[[], int]) -> None:
    """After a tracked run ends with rows queued: SIGTERM and SIGHUP, where their action is
    the default, say how many rows they lose before they end the program by the signal."""
    if threading.current_thread() is not threading.main_thread() or not rows_queued():
        return
    _queued[:] = [rows_queued]
    for stop in STOPS:
        with contextlib.suppress(ValueError, OSError):
            if signal.getsignal(stop) is signal.SIG_DFL:
                signal.signal(stop, _say_then_die)


def _interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


@contextlib.contextmanager
def stops_as_interrupt() -> Iterator[None]:
    """Inside, SIGTERM and SIGHUP raise KeyboardInterrupt, as Ctrl-C does, where their
    action is the default; a handler the program set, or a signal it ignores, is its own."""
    old: dict[int, Any] = {}
    if threading.current_thread() is threading.main_thread():
        for stop in STOPS:
            with contextlib.suppress(ValueError, OSError):
                if is_default(signal.getsignal(stop)):
                    old[stop] = signal.signal(stop, _interrupt)
    try:
        yield
    finally:
        for stop, handler in old.items():
            with contextlib.suppress(ValueError, OSError, TypeError):
                signal.signal(stop, handler)
