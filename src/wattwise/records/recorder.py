"""A tracked run's record, written without ever making the user's code wait.

Each call checks its input, queues the write and returns; the process's one
writer commits it in order. ``finish`` alone waits, up to ``FINISH_WAIT_S``, so
that a finished run's record is there for whatever reads it next; where another
process holds the database's lock it waits no longer than the writer's first try
for it (a quarter of a second), and the record lands when the lock is free. The
run's id is known once the writer has created the row (at once, unless another
process holds the lock). If the queue is full
because the database stays locked, samples, windows and events are dropped and
the hole is written as a ``gap`` event once the writer catches up, so the record
never has a silent hole. Problems are reported once per run as a
``WattwiseWarning``, never raised.
"""

from __future__ import annotations

import threading
import time
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from wattwise.records import rows as _rows
from wattwise.records.rows import SampleLike
from wattwise.records.writer import Task

#: After a run, how long the database stays open for the process's next run.
LINGER_S = 2.0
#: Warn that writes are waiting once the writer has waited this long for the lock.
STALL_WARN_S = 1.0
#: At a run's end, how long to wait for its record to be committed (the queue holds
#: at most seconds of samples; a lock held by another process is not waited for).
FINISH_WAIT_S = 5.0


class RunRecorder:
    """The record of one run in ``store``'s database; every method returns at once."""

    def __init__(self, store: Any, *, warn: Callable[[str], None] | None = None) -> None:
        self.store = store
        self._db = store.database
        self.path: Path = store.path
        self.run_id: int | None = None
        self._created = threading.Event()
        self._warn = warn or _warn
        self._warned: set[str] = set()
        self._lock = threading.Lock()
        self._dropped_rows = 0
        #: Rows left out of this record in all (the queue was full).
        self.dropped_total = 0
        self._dropped_from: float | None = None
        self._dropped_to: float | None = None
        self._closed = False
        self.errors: list[str] = []

    # -- writes ------------------------------------------------------------------

    def create(self, **fields: Any) -> None:
        """Queue the run's row (``Store.create_run``'s fields, checked here)."""
        values = _rows.run_values(**fields)

        def insert(conn: Any) -> None:
            self.run_id = _rows.insert_run(conn, values)
            self._created.set()

        self._submit(Task(insert, what="create the run", on_error=self._on_create_error))

    def samples(self, rows: Sequence[SampleLike]) -> None:
        """Queue samples and a heartbeat; dropped (and noted) if the queue is full."""
        values = _rows.sample_values(rows)
        if not values:
            return
        last = max(v[0] for v in values)
        run = self._id

        def insert(conn: Any) -> None:
            rid = run()
            _rows.insert_samples(conn, rid, values)
            _rows.update_heartbeat(conn, rid, last, self.path)

        if not self._submit(Task(insert, rows=len(values), what="add samples"), droppable=True):
            self._dropped(len(values), values[0][0], last)

    def window(self, window: dict[str, Any]) -> None:
        values = _rows.window_values(window)
        run = self._id
        task = Task(lambda conn: _rows.insert_window(conn, run(), values), what="add a window")
        if not self._submit(task, droppable=True):
            self._dropped(1, values[1], values[2])

    def event(self, t_unix_s: float, level: str, message: str) -> None:
        values = _rows.event_values(t_unix_s, level, message)
        run = self._id
        task = Task(lambda conn: _rows.insert_event(conn, run(), values), what="add an event")
        if not self._submit(task, droppable=True):
            self._dropped(1, values[0], values[0])

    def steps(self, marks: Sequence[Sequence[Any]]) -> None:
        """Queue the run's step marks (``records.rows.step_values``) in one write."""
        values = _rows.step_values(marks)
        if not values:
            return
        run = self._id
        task = Task(lambda conn: _rows.insert_steps(conn, run(), values), rows=len(values),
                    what="add step marks")
        if not self._submit(task, droppable=True):
            self._dropped(len(values), values[0][1], values[-1][1])

    def measured_from(self, t: float) -> None:
        """Queue the run's start moved to where its measurement began: its row is opened
        before the sensors' first reading, and a run lost before its end kept that time
        (0.16-0.26 s of a chart empty, its duration and power off by as much)."""
        begun = _rows.finite("measured_from", t)
        run = self._id
        self._submit(Task(lambda conn: _rows.update_start(conn, run(), begun, self.path),
                          what="mark where the run's measurement began"))

    def finish(
        self,
        *,
        ended_unix_s: float,
        status: str,
        exit_code: int | None = None,
        summary: dict[str, Any] | None = None,
    ) -> None:
        """Queue the final status and summary, and let go of the database."""
        values = _rows.finish_values(ended_unix_s=ended_unix_s, status=status,
                                     exit_code=exit_code, summary=summary)
        run = self._id
        self._submit(Task(lambda conn: _rows.update_finish(conn, run(), values, self.path),
                          what="finish the run"))
        # The run is over: a program that reads the record next (``wattwise show latest``
        # after its ``with`` block) must find it finished. Wait for the writer, but not
        # for another process's lock (then the record lands when the lock is free).
        self._db.writer.drain(FINISH_WAIT_S, unless_locked_s=0.0)
        watch = self._db.writer.watch  # deleted or replaced: said by the writer's refusal
        if watch is not None and watch.moved():  # moved() is never true once gone
            self._warn_once("moved", f"the run database is no longer at {self.path} (moved, "
                            "or its folder renamed, while the run recorded): its record is "
                            "whole in the moved file")
        self.close()

    def wait_for_id(self, timeout_s: float) -> int | None:
        """The run's id, waiting up to ``timeout_s`` for the writer to create the row,
        but not at all while another process holds the lock (then None)."""
        if self.run_id is None and self._db.writer.stalled_since is None:
            self._created.wait(timeout_s)
        return self.run_id

    def flush(self, timeout_s: float = 10.0) -> bool:
        """Wait up to ``timeout_s`` until everything queued so far is committed."""
        return bool(self._db.writer.drain(timeout_s))

    def close(self) -> None:
        """Release the database (queued writes still land). Idempotent."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
        self.store.close(linger_s=LINGER_S)

    # -- internals -------------------------------------------------------------------

    def _id(self) -> int:
        if self.run_id is None:
            from wattwise.errors import StoreError

            raise StoreError("the run's row was never created")
        return self.run_id

    def _submit(self, task: Task, *, droppable: bool = False) -> bool:
        if self._closed:  # a late write (a benchmark's summary after the run ended)
            from wattwise.records.database import acquire, release

            try:
                db = acquire(self.path)
            except Exception as exc:  # noqa: BLE001
                self._warn_once("broken", f"run record not completed: {exc}")
                return True
            try:
                return self._queue_on(db.writer, task, droppable)
            finally:
                release(db, linger_s=LINGER_S)
        return self._queue_on(self._db.writer, task, droppable)

    def _queue_on(self, writer: Any, task: Task, droppable: bool) -> bool:
        if task.on_error is None:
            task.on_error = self._on_error
        if droppable and self._dropped_rows and writer.stalled_since is None and (
            writer.pending_rows + task.rows + 1 <= writer.max_rows
        ):  # the lock is free and there is room: the hole is written first, in one event
            self._note_gap()
        try:
            queued = writer.submit(task, droppable=droppable)
        except Exception as exc:  # noqa: BLE001 - the database is unusable: say so once
            # (the same key as a write's failure: its cause, already said, is this)
            self._warn_once("write", f"run not recorded: {exc}")
            return True
        since = writer.stalled_since
        if since is not None and time.time() - since >= STALL_WARN_S:
            self._warn_once(
                "stalled",
                f"the run database {self.path} is locked by another process "
                f"(for {time.time() - since:.1f} s); the run goes on and its record "
                f"will be written when the lock is free",
            )
        return queued

    def _dropped(self, rows: int, t0: float, t1: float) -> None:
        with self._lock:
            self._dropped_rows += rows
            self.dropped_total += rows
            self._dropped_from = t0 if self._dropped_from is None else min(self._dropped_from, t0)
            self._dropped_to = t1 if self._dropped_to is None else max(self._dropped_to, t1)
        self._warn_once(
            "dropped",
            f"the run database {self.path} stayed locked and {self._db.writer.max_rows} rows "
            f"are waiting; further samples are left out of the record and marked as a gap "
            f"(the run's totals are unaffected)",
        )

    def _note_gap(self) -> None:
        """Queue one ``gap`` event for what was dropped so far (never droppable itself)."""
        with self._lock:
            n, t0, t1 = self._dropped_rows, self._dropped_from, self._dropped_to
            self._dropped_rows, self._dropped_from, self._dropped_to = 0, None, None
        if not n or t0 is None or t1 is None:
            return
        message = (
            f"record gap: {n} rows (samples, windows or events) from {t0:.3f} to {t1:.3f} "
            f"(unix s) were not written: the run database was locked and its queue full"
        )
        run = self._id
        values = _rows.event_values(t1, "gap", message)
        self._db.writer.submit(
            Task(lambda conn: _rows.insert_event(conn, run(), values), what="note a gap",
                 on_error=self._on_error)
        )

    def note_dropped_before_finish(self) -> str | None:
        """Queue the gap event now (before the final status); its text for the summary."""
        if not self.dropped_total:
            return None
        self._note_gap()
        return (f"{self.dropped_total} rows (samples, windows or events) were left out of "
                "the record while the database was locked; see its gap events")

    def _on_create_error(self, exc: BaseException) -> None:
        self._created.set()
        self._on_error(exc)

    def _on_error(self, exc: BaseException) -> None:
        self.errors.append(str(exc))
        self._warn_once("write", f"could not write the run record: {exc}")

    def _warn_once(self, key: str, message: str) -> None:
        if key in self._warned:
            return
        self._warned.add(key)
        self._warn(message)


def _warn(message: str) -> None:
    from wattwise.measure.meter import WattwiseWarning

    warnings.warn(f"wattwise: {message}", WattwiseWarning, stacklevel=4)
