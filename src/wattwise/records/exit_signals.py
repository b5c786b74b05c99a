"""SIGTERM and SIGHUP while wattwise waits at exit for a locked run database to take its
queued rows: taken as Ctrl-C is there (one line counting the rows not written, and the
command's own exit code). Before, the process died by the signal, silently, its record
lost: a CI job's timeout sends SIGTERM, often while another job holds the database."""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator
from typing import Any

#: The signals that end a program the way Ctrl-C does (those this platform has).
STOPS = tuple(getattr(signal, name) for name in ("SIGTERM", "SIGHUP") if hasattr(signal, name))


def _interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


@contextlib.contextmanager
def stops_as_interrupt() -> Iterator[None]:
    """Inside, SIGTERM and SIGHUP raise KeyboardInterrupt, as Ctrl-C does; a signal the
    program ignores (``nohup``'s SIGHUP) stays ignored. Outside the main thread, where no
    handler can be set, nothing changes."""
    old: dict[int, Any] = {}
    if threading.current_thread() is threading.main_thread():
        for stop in STOPS:
            with contextlib.suppress(ValueError, OSError):
                if signal.getsignal(stop) is not signal.SIG_IGN:
                    old[stop] = signal.signal(stop, _interrupt)
    try:
        yield
    finally:
        for stop, handler in old.items():
            with contextlib.suppress(ValueError, OSError, TypeError):
                signal.signal(stop, handler)
