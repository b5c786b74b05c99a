"""The meter's background thread: call ``tick`` every period until told to stop.

The thread must survive anything: a tick that raises is reported and the next one
runs; a period that is not a sane number (the caller bounds it) never kills it; a
machine that falls behind (a suspended VM, heavy load) skips ticks instead of
bursting to catch up. It never synchronises accelerators: window edges do that.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class SamplingThread:
    """One daemon thread at a time; ``start`` again after ``stop`` starts a new one.

    ``max_wait_s``: the longest it waits in one go (the longest sampling interval).
    """

    def __init__(self, max_wait_s: float) -> None:
        self._max_wait_s = max_wait_s
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(
        self,
        tick: Callable[[], object],
        period: Callable[[], float],
        failed: Callable[[Exception], None],
    ) -> None:
        """Call ``tick`` every ``period()`` seconds (asked anew each time); ``failed``
        with whatever a tick raises."""
        self._stop.clear()
        self._thread = threading.Thread(
            target=self._loop, args=(tick, period, failed), name="wattwise-meter", daemon=True
        )
        self._thread.start()

    def stop(self) -> bool:
        """Stop the thread and wait for it; False if none was started."""
        if self._thread is None:
            return False
        self._stop.set()
        self._thread.join()
        self._thread = None
        return True

    def _loop(
        self,
        tick: Callable[[], object],
        period: Callable[[], float],
        failed: Callable[[Exception], None],
    ) -> None:
        next_t = time.monotonic() + period()
        while True:
            # NaN-proof: min/max with a NaN first argument would keep the NaN
            wait = next_t - time.monotonic()
            if not 0.0 <= wait <= self._max_wait_s:
                wait = 0.0 if wait < 0 else self._max_wait_s
            if self._stop.wait(wait):
                return
            if time.monotonic() < next_t:  # woke early: only when a wait was capped
                continue
            try:
                tick()
            except Exception as exc:  # noqa: BLE001 - the thread must survive anything
                failed(exc)
            next_t += period()
            now = time.monotonic()
            if next_t < now:  # fell behind (suspended VM, heavy load): don't burst
                next_t = now + period()
