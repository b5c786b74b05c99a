"""The one writer of a run database in this process: a thread fed by a bounded queue.

Every write of every run and thread in the process goes through here, in order,
on one SQLite connection. The caller never waits for the database lock:
tracking hands over its rows and goes on; ``Store`` waits for its own write (and
gives up with ``StoreError`` after its timeout, taking the write back so it never
lands later). While another process holds the lock the queue fills up to
``max_rows`` rows; past that, droppable writes (samples, windows, events) are
refused and the caller records the hole as a gap. Once the lock is free, the
writer catches up in large transactions.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import threading
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import Any

from wattwise.errors import StoreError
from wattwise.records.damaged_file import is_damage, read_error
from wattwise.records.file_identity import FOLD_PATIENCE_S as FOLD_PATIENCE_S
from wattwise.records.file_identity import FileWatch, fold_wal, leave_path
from wattwise.records.kept_open import keep_open, odd_beside

#: Rows (samples, windows, events, run updates) the queue holds before droppable
#: writes are refused: about 35 MB at 344 bytes a queued sample row (docs/records.md).
MAX_PENDING_ROWS = 100_000
#: Tasks committed together in one transaction once the lock is free.
MAX_BATCH = 500
#: How long one ``BEGIN IMMEDIATE`` waits inside SQLite before the writer looks
#: at its queue again (cancellations, shutdown).
LOCK_POLL_S = 0.25
#: How long a locked-out writer sleeps, outside the fork guard, between tries.
LOCKED_OUT_SLEEP_S = 0.02

_PENDING, _CLAIMED, _CANCELLED, _DONE = range(4)

#: Held by a writer while it is inside SQLite, and by ``os.fork`` (at-fork hooks
#: below): a child never starts with SQLite's state copied mid-call from a
#: writer thread that does not exist in it (SQLite: don't carry connections or
#: calls across fork). A fork waits at most one busy-timeout step (0.25 s).
_IN_SQLITE = threading.RLock()


class Task:
    """One write: ``fn(conn)`` run inside the writer's transaction, all or nothing."""

    __slots__ = ("done", "error", "fn", "on_error", "result", "rows", "state", "what")

    def __init__(
        self,
        fn: Callable[[sqlite3.Connection], Any],
        *,
        rows: int = 1,
        what: str = "write",
        on_error: Callable[[BaseException], None] | None = None,
        sync: bool = False,
    ) -> None:
        self.fn = fn
        self.rows = max(1, int(rows))
        self.what = what
        self.on_error = on_error
        self.state = _PENDING
        self.result: Any = None
        self.error: BaseException | None = None
        self.done = threading.Event() if sync else None


def is_busy(exc: BaseException) -> bool:
    """SQLITE_BUSY or SQLITE_LOCKED: another connection holds the lock."""
    code = getattr(exc, "sqlite_errorcode", None)
    if code is not None:
        return (code & 0xFF) in (5, 6)
    text = str(exc).lower()
    return "locked" in text or "busy" in text


class _Pending:
    """The tasks not yet over, in order, and their row count.

    Callers and the thread share ``cv``: every method here runs under it.
    """

    def __init__(self, label: str, path: Path | None = None) -> None:
        self.label = label
        self.path = path
        self.cv = threading.Condition()
        self.tasks: deque[Task] = deque()
        self.rows = 0
        #: A batch is claimed and inside a transaction.
        self.busy = False

    def claim(self, limit: int) -> list[Task]:
        """Take up to ``limit`` tasks for one transaction (cancelled ones are dropped)."""
        batch: list[Task] = []
        while self.tasks and len(batch) < limit:
            task = self.tasks.popleft()
            if task.state == _CANCELLED:
                continue
            task.state = _CLAIMED
            batch.append(task)
        self.busy = True
        return batch

    def put_back(self, batch: list[Task]) -> None:
        """The batch's transaction could not commit: its tasks go back in front, in order."""
        for task in reversed(batch):
            task.state = _PENDING
            self.tasks.appendleft(task)
        self.busy = False

    def finish_batch(self, batch: list[Task]) -> None:
        for task in batch:
            self.finish(task)
        self.busy = False
        self.cv.notify_all()

    def fail_head(self, exc: BaseException) -> None:
        if self.tasks:
            task = self.tasks.popleft()
            if task.state != _CANCELLED:
                task.error = _as_store_error(self.label, task.what, exc, self.path)
                self.finish(task)
        self.cv.notify_all()

    def fail_all(self, exc: BaseException) -> None:
        """Every queued task fails with ``exc``."""
        while self.tasks:
            task = self.tasks.popleft()
            if task.state == _CANCELLED:
                continue
            task.error = _as_store_error(self.label, task.what, exc, self.path)
            self.finish(task)
        self.cv.notify_all()

    def finish(self, task: Task) -> None:
        """The task is over; wake its caller or report its error."""
        task.state = _DONE
        self.rows -= task.rows
        if task.done is not None:
            task.done.set()
        elif task.error is not None and task.on_error is not None:
            with contextlib.suppress(Exception):
                task.on_error(task.error)


class Writer:
    """A daemon thread that owns one connection and commits queued tasks in order.

    ``connect`` opens and prepares the connection (schema check, WAL,
    migrations); it runs in the thread, so a database locked at start-up delays
    the record, never the caller. ``may_exit`` is asked, under the caller's
    registry lock, whether the thread may end once it is idle.
    """

    def __init__(
        self,
        connect: Callable[[], sqlite3.Connection],
        *,
        label: str,
        path: Path | None = None,
        max_rows: int = MAX_PENDING_ROWS,
        may_exit: Callable[[], bool] = lambda: False,
        on_exit: Callable[[], None] = lambda: None,
    ) -> None:
        self._connect = connect
        self.label = label
        self.max_rows = int(max_rows)
        self._may_exit = may_exit
        self._on_exit = on_exit
        self._pending = _Pending(label, path)
        #: The queue's condition: callers and the thread wait on it.
        self._cv = self._pending.cv
        self._stop_when_idle = False
        #: Set once the connection is open and the schema ready, or it failed.
        self.opened = threading.Event()
        #: Why the database cannot be written at all (bad file, newer schema...).
        self.broken: BaseException | None = None
        #: Unix time since which the writer has waited for the lock; None if not waiting.
        self.stalled_since: float | None = None
        self.committed_tasks = 0
        #: The file written, held open: whether it is still at its name (``file_identity``).
        self.watch: FileWatch | None = None
        self._thread = threading.Thread(target=self._loop, name=f"wattwise-writer {label}",
                                        daemon=True)
        self._thread.start()

    # -- callers -----------------------------------------------------------------

    @property
    def pending_rows(self) -> int:
        return self._pending.rows

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    def submit(self, task: Task, *, droppable: bool = False) -> bool:
        """Queue ``task``; False (and nothing queued) if it is droppable and the queue is full."""
        with self._cv:
            if self.broken is not None:
                said = str(self.broken)  # most name the file already: not twice
                raise StoreError(said if said.startswith(self.label) else
                                 f"{self.label}: {said}")
            if droppable and self._pending.rows + task.rows > self.max_rows:
                return False
            self._pending.tasks.append(task)
            self._pending.rows += task.rows
            self._stop_when_idle = False
            self._cv.notify_all()
        return True

    def wait(self, task: Task, timeout_s: float) -> Any:
        """Wait for a synchronous task; on timeout take it back so it never lands later."""
        assert task.done is not None, "only synchronous tasks can be waited for"
        if not task.done.wait(timeout_s):
            with self._cv:
                if task.state == _PENDING:
                    task.state = _CANCELLED
                    self._pending.rows -= task.rows
                    since = self.stalled_since
                    waited = "" if since is None else (
                        f" (locked by another connection for {time.time() - since:.1f} s)"
                    )
                    raise StoreError(
                        f"{self.label}: cannot {task.what}: database is locked{waited}; "
                        f"gave up after {timeout_s:g} s"
                    )
            task.done.wait()  # claimed: the transaction already holds the lock
        if task.error is not None:
            raise task.error
        return task.result

    def drain(self, timeout_s: float, *, unless_locked_s: float | None = None) -> bool:
        """Wait until everything queued so far is committed (or failed); False on timeout,
        or once the lock has been held elsewhere for ``unless_locked_s``."""
        deadline = time.monotonic() + timeout_s
        with self._cv:
            while self._pending.tasks or self._pending.busy:
                left = deadline - time.monotonic()
                since = self.stalled_since
                if (
                    left <= 0
                    or not self._thread.is_alive()
                    or (unless_locked_s is not None and since is not None
                        and time.time() - since >= unless_locked_s)
                ):
                    return not self._pending.tasks and not self._pending.busy
                self._cv.wait(min(left, 0.1))
        return True

    def stop_when_idle(self, linger_s: float = 0.0) -> None:
        """Let the thread end, and close its connection, once the queue is empty and
        ``linger_s`` has passed with nothing new (so back-to-back runs share it)."""
        with self._cv:
            self._stop_when_idle = True
            self._linger_s = max(0.0, linger_s)
            self._cv.notify_all()

    def shutdown(self) -> None:
        """End the thread once the queue is empty, whoever still holds the database
        (interpreter exit): closing its connection folds the WAL into the file."""
        with self._cv:
            self._shutdown = True
            self._cv.notify_all()

    def join(self, timeout_s: float) -> None:
        self._thread.join(timeout_s)

    # -- the thread ----------------------------------------------------------------

    _linger_s = 0.0
    _shutdown = False

    def _loop(self) -> None:
        conn: sqlite3.Connection | None = None
        try:
            conn = self._open_until_ready()
            while conn is not None:
                with self._cv:
                    while (not self._pending.tasks and not self._stop_when_idle
                           and not self._shutdown):
                        self._cv.wait()
                    has_work = bool(self._pending.tasks)
                if has_work:
                    with _IN_SQLITE:
                        locked_out = self._commit_some(conn)
                    if locked_out and self._shutdown:  # the exit's wait is over: lost, said
                        break
                    if locked_out:  # wait outside the fork guard: another database's writer, a
                        # ``Store`` opening, or a fork gets its turn (the guard is not fair).
                        time.sleep(LOCKED_OUT_SLEEP_S)
                    continue
                if self._shutdown:
                    break
                if self._linger_s > 0:  # a run ended: its -wal into its file before the wait
                    _in_sqlite(fold_wal, conn)  # (a file moved over it never reads them)
                    with self._cv:  # an exit or a task that came during the fold
                        if not (self._shutdown or self._pending.tasks):  # is not missed
                            self._cv.wait(self._linger_s)
                        self._linger_s = 0.0
                        if self._pending.tasks or not self._stop_when_idle:
                            continue
                # Idle and asked to stop: ``may_exit`` takes the registry lock (never
                # while holding ``_cv``) and says no if the database was opened again.
                if self._may_exit():
                    break
                with self._cv:
                    self._stop_when_idle = False
        finally:
            if conn is not None:
                _in_sqlite(_close, conn, self.watch, self._pending.path)
            if self.watch is not None:
                self.watch.close()
            with self._cv:
                self._pending.fail_all(
                    self.broken or StoreError(f"{self.label}: writer stopped"))
            self._on_exit()

    def _open_until_ready(self) -> sqlite3.Connection | None:
        """Open the connection, waiting out a locked database; None if it cannot be used."""
        delay = 0.01
        while True:
            asked = time.time()
            try:
                with _IN_SQLITE:
                    conn = self._connect()
            except BaseException as exc:  # noqa: BLE001 - reported to every caller
                if not (isinstance(exc, sqlite3.OperationalError) and is_busy(exc)):
                    self._break(exc)
                    return None
                if self._shutdown:  # the exit's wait is over: what is queued is said lost
                    return None
                self._stalled(asked)
                time.sleep(delay)
                delay = min(delay * 2, LOCK_POLL_S)
                continue
            self.stalled_since = None
            if self._pending.path is not None:  # the file its rows go to, held open
                self.watch = FileWatch(self._pending.path)
            self.opened.set()
            return conn

    def _break(self, exc: BaseException) -> None:
        with self._cv:
            self.broken = exc
            self._pending.fail_all(exc)
        self.opened.set()

    def _stalled(self, since: float | None = None) -> None:
        if self.stalled_since is None:
            self.stalled_since = time.time() if since is None else since

    def _commit_some(self, conn: sqlite3.Connection) -> bool:
        """Commit a batch of queued tasks; True if another connection held the lock."""
        asked = time.time()
        try:
            conn.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            if not is_busy(exc):
                with self._cv:
                    self._pending.fail_head(exc)
                return False
            self._stalled(asked)
            return True  # busy_timeout already waited LOCK_POLL_S
        self.stalled_since = None
        moved = _moved_away(self.watch, conn, self.label, self._pending.rows)
        if moved is not None:
            self._break(moved)
            return False
        with self._cv:
            batch = self._pending.claim(MAX_BATCH)
        try:
            for task in batch:
                conn.execute("SAVEPOINT task")
                try:
                    task.result = task.fn(conn)
                    conn.execute("RELEASE task")
                except Exception as exc:  # noqa: BLE001 - this task fails, the others go on
                    conn.execute("ROLLBACK TO task")
                    conn.execute("RELEASE task")
                    task.error = _as_store_error(self.label, task.what, exc, self._pending.path)
            conn.execute("COMMIT")
        except sqlite3.Error as exc:
            with contextlib.suppress(sqlite3.Error):
                conn.execute("ROLLBACK")
            if is_busy(exc):  # the commit could not take the lock: try the batch again
                with self._cv:
                    self._pending.put_back(batch)
                return True
            for task in batch:
                task.error = _as_store_error(self.label, task.what, exc, self._pending.path)
        self.committed_tasks += len(batch)
        with self._cv:
            self._pending.finish_batch(batch)
        return False


def _in_sqlite(fn: Callable[..., Any], *args: Any) -> Any:
    """``fn(*args)`` inside the fork guard (``_IN_SQLITE``): a fold of the ``-wal`` or a
    close is SQLite's work too, which no fork may copy half done."""
    with _IN_SQLITE:
        return fn(*args)


def _close(conn: sqlite3.Connection, watch: FileWatch | None, path: Path | None) -> None:
    """Close the connection; where its file left its name while the writer idled, its
    ``-wal`` first out of the path's way (``file_identity.leave_path``); where a side
    file beside it is no regular file, its log folded into the file (a ``-wal`` put in
    place of the one it writes holds its commits in no file by that name), then left
    open (``kept_open``: its close would remove that file)."""
    if watch is not None and watch.gone() is not None:
        leave_path(conn, watch)
    if odd_beside(path):
        with contextlib.suppress(sqlite3.Error):
            conn.execute("PRAGMA wal_checkpoint(PASSIVE)")
        keep_open(conn)
        return
    with contextlib.suppress(sqlite3.Error):
        conn.close()


def _moved_away(watch: FileWatch | None, conn: sqlite3.Connection,
                label: str, rows: int = 0) -> BaseException | None:
    """Where the file written is no longer at its name (``file_identity``): the
    transaction given up, the ``-wal`` named after the file emptied into it, else moved
    out of the path's way (so the file now at that name never reads it as its own), and
    the connection closed; and why, with the ``rows`` still queued, which are lost."""
    gone = None if watch is None else watch.gone()
    if watch is None or gone is None:
        return None
    with contextlib.suppress(sqlite3.Error):
        conn.execute("ROLLBACK")
    then = leave_path(conn, watch)  # its rows into it, or its -wal away; closed
    lost = f"; {rows} queued row{'' if rows == 1 else 's'} of run records " \
        f"{'was' if rows == 1 else 'were'} not written" if rows else ""
    return StoreError(f"{label} was {gone} while it was written: {then}{lost}")


def _as_store_error(label: str, what: str, exc: BaseException,
                    path: Path | None = None) -> BaseException:
    """A failed write in wattwise's words: a damaged file (``path``'s) in the line every
    reader gives for it (``records.damaged_file``), which marks it damaged for them."""
    from wattwise.errors import WattwiseError

    if isinstance(exc, WattwiseError):
        return exc
    if path is not None and is_damage(exc):
        return read_error(path, exc)
    if isinstance(exc, sqlite3.IntegrityError):
        from wattwise.errors import BadInput

        return BadInput(f"{label}: cannot {what}: {exc}")
    return StoreError(f"{label}: cannot {what}: {exc}")


def _before_fork() -> None:
    _IN_SQLITE.acquire()


def _after_fork() -> None:
    with contextlib.suppress(RuntimeError):
        _IN_SQLITE.release()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(before=_before_fork, after_in_parent=_after_fork,
                        after_in_child=_after_fork)
