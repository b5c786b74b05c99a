"""Run records in SQLite: what a run used, over time, with provenance.

``Store`` opens the database and writes; its reads are ``records.queries.RunQueries``.

One file, stdlib ``sqlite3``, safe for several processes and threads writing at
once:

- One way to the file per process (``records.database``): every ``Store`` and
  every tracked run of a process shares one writer connection and its thread;
  nothing but SQLite ever opens the file, so no stray close can drop the
  process's locks (SQLite's "How To Corrupt", 2.2).
- WAL journal: readers never block the writer, and writers queue on one lock.
  The writer takes it with ``BEGIN IMMEDIATE`` and commits queued writes in
  batches; a ``Store`` write waits for its own commit up to ``timeout_s`` and
  then raises ``StoreError`` (the write is withdrawn, it never lands later).
- ``synchronous=NORMAL`` in WAL mode writes each commit to the WAL before
  returning, so a process killed with SIGKILL loses nothing it committed; only
  a power cut or OS crash can lose the last few commits, and it never corrupts
  the file.

A file at the path that is not a wattwise database is never written to: it is
read through SQLite first, and any doubt raises ``StoreError``.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, TypeVar

from wattwise._paths import DEFAULT_ENV, default_db_path
from wattwise.errors import BadInput, StoreError
from wattwise.records import rows as _rows
from wattwise.records.damaged_file import read_error
from wattwise.records.database import Database, ReadOnlyDatabase, acquire, release
from wattwise.records.queries import RunInfo, RunQueries, RunRecord, SampleRow
from wattwise.records.read_wait import executed
from wattwise.records.rows import STATUSES, SampleLike
from wattwise.records.schema import MIGRATIONS, SCHEMA_VERSION
from wattwise.records.writer import Task

__all__ = [
    "DEFAULT_ENV",
    "MIGRATIONS",
    "SCHEMA_VERSION",
    "STATUSES",
    "RunInfo",
    "RunRecord",
    "SampleLike",
    "SampleRow",
    "Store",
    "default_db_path",
]


T = TypeVar("T")


class Store(RunQueries):
    """The run-record database. See the module docstring for the guarantees.

    ``stale_after_s``: a ``running`` run recorded on another host whose
    heartbeat is older than this is reported as ``lost`` (on this host, a run
    whose process is gone is ``lost`` at once).
    ``timeout_s``: how long a write waits for the lock before ``StoreError``.
    ``open_wait_s``: how long opening waits for the file to be checked (default
    ``timeout_s``); tracking waits briefly and goes on if the file is locked,
    its writes queued until it is free.
    ``readonly``: only read, never change the file (``mode=ro``): a missing file
    is a ``StoreError``, not a new database (the CLI views and the dashboard).
    """

    def __init__(
        self,
        path: str | Path | None = None,
        *,
        stale_after_s: float = 120.0,
        timeout_s: float = 30.0,
        retries: int = 8,  # kept for callers; the writer retries until timeout_s
        open_wait_s: float | None = None,
        readonly: bool = False,
    ) -> None:
        self.path = Path(path).expanduser() if path is not None else default_db_path()
        if not stale_after_s >= 0:
            raise BadInput(f"stale_after_s must be >= 0, got {stale_after_s}")
        if not timeout_s > 0:
            raise BadInput(f"timeout_s must be > 0, got {timeout_s}")
        self.stale_after_s = float(stale_after_s)
        self._timeout_s = float(timeout_s)
        self._closed = False
        self.readonly = readonly
        self._ro: ReadOnlyDatabase | None = None
        if readonly:
            self._ro = ReadOnlyDatabase(self.path, self._timeout_s)
            return
        self._db: Database = acquire(self.path)
        try:
            self._ready(self._timeout_s if open_wait_s is None else open_wait_s,
                        must_open=open_wait_s is None)
        except BaseException:
            self.close()
            raise

    def __repr__(self) -> str:
        return f"Store({str(self.path)!r})"

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def database(self) -> Database:
        """The process's shared handle on this file (for the run recorder)."""
        self._check_open()
        if self._ro is not None:
            raise StoreError(f"run database {self.path} was opened read-only")
        return self._db

    def stop_reads(self, why: str) -> None:
        """A read-only store refuses every read from now on and ends those running
        (``ReadOnlyDatabase.stop_reads``: the process is stopping)."""
        if self._ro is not None:
            self._ro.stop_reads(why)

    # -- connections -------------------------------------------------------

    def _ready(self, wait_s: float, must_open: bool) -> None:
        """Wait until the file is checked and its schema current: a bad file fails here."""
        writer = self._db.writer
        if not writer.opened.wait(wait_s):
            if not must_open:
                return
            waited = writer.stalled_since
            raise StoreError(
                f"run database {self.path}: cannot open: database is locked"
                + (f" (for {time.time() - waited:.1f} s)" if waited else "")
                + f"; gave up after {wait_s:g} s"
            )
        if writer.broken is not None:
            err = writer.broken
            raise err if isinstance(err, StoreError) else StoreError(
                f"run database {self.path}: cannot open: {err}"
            )

    def wait_checked(self, timeout_s: float) -> None:
        """Wait (``timeout_s`` at most) for the writer's first check of the file to end:
        passed (the open may go on: a first install is not waited for), refused, or the
        file found locked by another process, which includes the verdict on a copy of it
        (``held_copy``). A refusal is raised here, before a command starts, not said at
        its end (a copy slower than the open's own wait let the command run)."""
        if self._ro is not None:
            return
        writer, checked = self._db.writer, self._db.checked
        deadline = time.monotonic() + timeout_s
        while not (checked.is_set() or writer.opened.is_set()) \
                and writer.stalled_since is None and time.monotonic() < deadline:
            time.sleep(0.01)
        if writer.opened.is_set():
            self._ready(0.0, must_open=False)

    def _check_open(self) -> None:
        if self._closed:  # why its reads were stopped first, where they were (try again)
            stopped = getattr(self._ro, "stopped", None)
            raise StoreError(f"run database {self.path}: not read: {stopped}" if stopped
                             else f"run database {self.path} is closed")

    def _write(self, what: str, fn: Callable[[sqlite3.Connection], T], rows: int = 1) -> T:
        """Run ``fn`` in the writer's transaction and wait for its commit."""
        self._check_open()
        if self._ro is not None:
            raise StoreError(f"run database {self.path} was opened read-only; cannot {what}")
        task = Task(fn, rows=rows, what=what, sync=True)
        self._db.writer.submit(task)
        result: T = self._db.writer.wait(task, self._timeout_s)
        return result

    def _read(self, sql: str, params: Sequence[Any] = ()) -> list[sqlite3.Row]:
        """Read what is committed, after this process's queued writes (a run that just
        ended is seen as ended) unless another process holds the lock."""
        self._check_open()
        writer = self._db.writer if self._ro is None else self._ro.same_process_writer()
        if writer is not None and writer.pending_rows:
            writer.drain(self._timeout_s, unless_locked_s=0.25)
        try:
            return executed(self._db if self._ro is None else self._ro, sql, params,
                            self._timeout_s).fetchall()
        except sqlite3.Error as exc:
            raise _read_error(self.path, self._ro, exc) from exc

    def schema_version(self) -> int:
        """SQLite's ``PRAGMA schema_version`` of the file, which it bumps at every change
        of a table, index or view: a reader kept open checks by it that the tables it
        judged are still those (one read of the file's header)."""
        return int(self._read("PRAGMA schema_version")[0][0])

    def _read_chunks(
        self, sql: str, params: Sequence[Any] = (), size: int = 10_000
    ) -> Iterator[list[sqlite3.Row]]:
        """``_read`` a page of ``size`` rows at a time, from one statement: a run of a
        million samples is read without holding them all (an export writes them as read)."""
        self._check_open()
        writer = self._db.writer if self._ro is None else self._ro.same_process_writer()
        if writer is not None and writer.pending_rows:
            writer.drain(self._timeout_s, unless_locked_s=0.25)
        try:
            cursor = executed(self._db if self._ro is None else self._ro, sql, params,
                              self._timeout_s)
        except sqlite3.Error as exc:
            raise _read_error(self.path, self._ro, exc) from exc
        try:
            while True:
                try:
                    rows = cursor.fetchmany(max(1, int(size)))
                except sqlite3.Error as exc:
                    raise _read_error(self.path, self._ro, exc) from exc
                if not rows:
                    return
                yield rows
        finally:
            cursor.close()

    def close(self, *, linger_s: float = 0.0) -> None:
        """Let go of the shared database; the last user closes it (after ``linger_s``
        idle, so that back-to-back runs reuse it). Idempotent."""
        if self._closed:
            return
        self._closed = True
        if self._ro is not None:
            self._ro.close()
        else:
            release(self._db, linger_s=linger_s)

    # -- writes ------------------------------------------------------------

    def create_run(
        self,
        *,
        name: str,
        started_unix_s: float,
        host: dict[str, Any],
        hardware: dict[str, Any],
        sensors: list[dict[str, Any]],
        versions: dict[str, Any],
        command: list[str] | None = None,
        pid: int | None = None,
        tags: dict[str, Any] | None = None,
    ) -> int:
        """Record a new run as ``running`` and return its id.

        ``pid`` is the process whose death makes the run ``lost``; its start
        time is recorded too, so a reused pid does not keep the run alive.
        """
        values = _rows.run_values(
            name=name, started_unix_s=started_unix_s, host=host, hardware=hardware,
            sensors=sensors, versions=versions, command=command, pid=pid, tags=tags,
        )
        return self._write("create a run", lambda conn: _rows.insert_run(conn, values))

    def add_samples(self, run_id: int, rows: Sequence[SampleLike]) -> None:
        """Append sample rows in one transaction (all or none)."""
        values = _rows.sample_values(rows)
        if values:
            self._write(f"add samples to run {run_id}",
                        lambda conn: _rows.insert_samples(conn, run_id, values), len(values))

    def add_window(self, run_id: int, window: dict[str, Any]) -> None:
        """Record one closed window. Keys beyond the standard ones are kept as-is."""
        values = _rows.window_values(window)
        self._write(f"add a window to run {run_id}",
                    lambda conn: _rows.insert_window(conn, run_id, values))

    def add_event(self, run_id: int, t_unix_s: float, level: str, message: str) -> None:
        """Record a warning, gap or note at a point in the run."""
        values = _rows.event_values(t_unix_s, level, message)
        self._write(f"add an event to run {run_id}",
                    lambda conn: _rows.insert_event(conn, run_id, values))

    def add_steps(self, run_id: int, marks: Sequence[Sequence[Any]]) -> None:
        """Record step marks, each ``(mark, t_unix_s, step, energy_j, low_j, high_j,
        kind)`` (``records.rows.step_values``), in one transaction."""
        values = _rows.step_values(marks)
        if values:
            self._write(f"add step marks to run {run_id}",
                        lambda conn: _rows.insert_steps(conn, run_id, values), len(values))

    def heartbeat(self, run_id: int, t_unix_s: float) -> None:
        """Note that the run was alive at ``t_unix_s`` (never moves backwards)."""
        t = _rows.finite("t_unix_s", t_unix_s)
        self._write(f"heartbeat run {run_id}",
                    lambda conn: _rows.update_heartbeat(conn, run_id, t, self.path))

    def finish_run(
        self,
        run_id: int,
        *,
        ended_unix_s: float,
        status: str,
        exit_code: int | None = None,
        summary: dict[str, Any] | None = None,
    ) -> None:
        """Close the run with a final status: finished, failed or interrupted."""
        values = _rows.finish_values(ended_unix_s=ended_unix_s, status=status,
                                     exit_code=exit_code, summary=summary)
        self._write(f"finish run {run_id}",
                    lambda conn: _rows.update_finish(conn, run_id, values, self.path))


def _read_error(path: Path, ro: ReadOnlyDatabase | None, exc: BaseException) -> StoreError:
    """A failed read in wattwise's words (``damaged_file.read_error``), a kept reader's
    through it (``ReadOnlyDatabase.read_failed``)."""
    return read_error(path, exc) if ro is None else ro.read_failed(exc)
