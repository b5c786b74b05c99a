"""A read refused by a lock is tried again in steps until its wait is spent or its reads
are stopped; for a dashboard request, the wait counts from the request's arrival until
one of its reads gets through, then each read waits its own time."""

from __future__ import annotations

import contextvars
import sqlite3
import time
from typing import Any

import pytest

from wattwise.records import read_wait
from wattwise.records.read_wait import ARRIVED, retried


class _Locked:
    """A read refused by a lock its first ``refusals`` tries, then answered."""

    def __init__(self, refusals: int) -> None:
        self.refusals, self.tries = refusals, 0

    def __call__(self) -> str:
        self.tries += 1
        if self.tries <= self.refusals:
            raise sqlite3.OperationalError("database is locked")
        return "rows"


def test_a_read_is_tried_again_until_it_gets_through() -> None:
    read = _Locked(3)
    assert retried(read, 30.0) == "rows" and read.tries == 4


def test_a_read_stops_trying_once_its_reads_are_stopped() -> None:
    class Reads:
        stopped: str | None = None

    reads, read = Reads(), _Locked(10**9)

    def stop_on_third() -> str:
        if read.tries == 2:
            reads.stopped = "the dashboard is stopping"
        return read()

    with pytest.raises(sqlite3.OperationalError, match="locked"):
        retried(stop_on_third, 300.0, reads)
    assert read.tries == 3


def test_another_error_is_not_tried_again() -> None:
    tries = []

    def broken() -> Any:
        tries.append(1)
        raise sqlite3.OperationalError("no such table: runs")

    with pytest.raises(sqlite3.OperationalError, match="no such table"):
        retried(broken, 30.0)
    assert len(tries) == 1


def test_a_requests_wait_counts_from_its_arrival_until_a_read_gets_through(
        monkeypatch: pytest.MonkeyPatch) -> None:
    clock = [1000.0]
    monkeypatch.setattr(read_wait.time, "monotonic", lambda: clock[0])

    def locked_for(seconds: float) -> Any:
        until = clock[0] + seconds

        def read() -> str:
            if clock[0] < until:
                clock[0] += 0.1  # one step of SQLite's wait
                raise sqlite3.OperationalError("database is locked")
            return "rows"
        return read

    def request() -> list[str]:
        ARRIVED.set(clock[0] - 25.0)  # waited 25 s for a thread
        got = []
        with pytest.raises(sqlite3.OperationalError):  # 5 s of its 30 left, then refused
            retried(locked_for(6.0), 30.0)
        got.append(f"refused at {clock[0] - 1000.0:.1f}")
        return got

    assert contextvars.copy_context().run(request) == ["refused at 5.0"]

    def later_reads() -> list[str]:
        ARRIVED.set(clock[0] - 25.0)
        got = [retried(locked_for(2.0), 30.0)]  # within its 5 s: through; its own from now
        got.append(retried(locked_for(20.0), 30.0))  # a lock taken again: waited out
        return got

    assert contextvars.copy_context().run(later_reads) == ["rows", "rows"]
    assert ARRIVED.get() is None  # nothing outside a request's context
    assert time.monotonic() == clock[0]
