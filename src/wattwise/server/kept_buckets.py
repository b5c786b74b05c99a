"""A run's samples summed into its timeline's buckets, kept between requests and summed
once for requests that ask at the same time.

A million samples take a second or more to sum (``server.timeline.BUCKETS_SQL``). A run
page asks its run (whose hole note sums the timeline's buckets:
``records.sample_holes``) and its timeline together: each summed them alone, the second
beside the first. A second ask while the first sums waits for it; a sum that fails is
made again by the next to ask.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from typing import Any

#: How many bucket sums are kept (the oldest is let go).
KEPT = 16


class KeptBuckets:
    """Bucket sums by key, ``sum_now`` making one where none is kept or being made."""

    def __init__(self) -> None:
        self._kept: dict[Hashable, Any] = {}
        self._summing: dict[Hashable, threading.Event] = {}
        self._lock = threading.Lock()

    def get(self, key: Hashable, sum_now: Callable[[], Any]) -> Any:
        """The sums kept under ``key``, else those another thread is making (waited for),
        else ``sum_now()``, kept."""
        while True:
            with self._lock:
                if key in self._kept:
                    return self._kept[key]
                making = self._summing.get(key)
                if making is None:
                    making = self._summing[key] = threading.Event()
                    break
            making.wait()
        try:
            rows = sum_now()
            with self._lock:
                while len(self._kept) >= KEPT:
                    self._kept.pop(next(iter(self._kept)))
                self._kept[key] = rows
        finally:
            with self._lock:
                del self._summing[key]
            making.set()
        return rows
