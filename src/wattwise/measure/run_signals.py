"""How a tracked run ends: signals that would kill it unwound, and its exit recorded.

SIGTERM and SIGHUP (terminal closed) normally kill without unwinding; while a run is
tracked they raise ``SystemExit(128 + N)`` instead, so ``with track(...)`` and
``finally`` blocks finalise the record. A handler the program set itself is left
alone, and only the main thread can set handlers: in another thread nothing changes.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Callable
from types import FrameType
from typing import Any

from wattwise.records.exit_signals import is_default

#: What ``signal.signal`` returns: a handler, ``SIG_DFL``/``SIG_IGN``, or None.
Handler = Callable[[int, FrameType | None], Any] | int | signal.Handlers | None

FINALISING_SIGNALS = tuple(
    getattr(signal, n) for n in ("SIGTERM", "SIGHUP") if hasattr(signal, n)
)


class Terminated(SystemExit):
    """SIGTERM or SIGHUP turned into ``SystemExit(128 + N)``: recorded as interrupted."""


def sigterm_to_exit(signum: int, frame: FrameType | None) -> None:
    raise Terminated(128 + signum)


class FinalisingSignals:
    """Our handlers for ``FINALISING_SIGNALS`` while a run is tracked, and the ones before."""

    def __init__(self) -> None:
        self._old: dict[int, Handler] = {}

    def install(self) -> None:
        self._old = {}
        if threading.current_thread() is not threading.main_thread():
            return
        for sig in FINALISING_SIGNALS:
            try:
                if is_default(signal.getsignal(sig)):
                    self._old[sig] = signal.signal(sig, sigterm_to_exit)
            except (ValueError, OSError):
                continue

    def restore(self) -> None:
        """Put back what was there, unless the program has set its own handler since."""
        if not self._old or threading.current_thread() is not threading.main_thread():
            return
        for sig, old in self._old.items():
            with contextlib.suppress(ValueError, OSError):
                if signal.getsignal(sig) is sigterm_to_exit:
                    signal.signal(sig, old)
        self._old = {}


def exit_status(
    exc_type: type[BaseException] | None, exc: BaseException | None
) -> tuple[str, int | None]:
    """The status and exit code a run is recorded with when its block ends this way."""
    if exc_type is None:
        return "finished", None
    if issubclass(exc_type, SystemExit) and not issubclass(exc_type, Terminated):
        # sys.exit(0) / sys.exit() inside the block is a normal end; any other
        # code is a failure, as `wattwise run` records a non-zero exit.
        code = exc.code if isinstance(exc, SystemExit) else None
        if code is None or code == 0:
            return "finished", 0
        return "failed", code if isinstance(code, int) and not isinstance(code, bool) else 1
    if issubclass(exc_type, KeyboardInterrupt | Terminated):
        return "interrupted", None
    return "failed", None
