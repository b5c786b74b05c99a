"""One way to a run database per process and file, shared by every run and thread.

Why: on Linux, closing *any* descriptor of a file drops every POSIX lock the
process holds on it (SQLite's "How To Corrupt An SQLite Database File", 2.2).
A second handle that opened and closed the file behind SQLite's back once let
another process delete a live WAL, and committed rows vanished. So:

- nothing here opens the database file except SQLite itself (the file is
  checked with ``os.stat`` and through SQLite's own reads, never ``open()``);
- ``acquire(path)`` returns the process's one ``Database`` for that file,
  counted by reference; every ``Store`` and every tracked run shares it;
- all writes go through its one ``Writer`` thread and connection; reads use a
  connection per thread, opened by SQLite (which shares the process's locks
  between its own connections correctly).

A forked child never touches its parent's connections: it gets its own.

A damaged file is refused whole, by every reader alike (``records.damaged_file``).
"""

from __future__ import annotations

import atexit
import contextlib
import os
import sqlite3
import threading
import time
import urllib.parse
from functools import partial
from pathlib import Path
from typing import Any

from wattwise.errors import StoreError
from wattwise.records import immutable_read, schema
from wattwise.records.damaged_file import (
    ChangedWhileRead,
    check_whole,
    cut_short_error,
    damage_found,
    is_damage,
    locked_error,
    none_yet_error,
    read_error,
)
from wattwise.records.db_paths import check_path as _check_path
from wattwise.records.db_paths import mispaired_log, odd_side_file, open_fault
from wattwise.records.db_paths import not_a_file_name as not_a_file_name
from wattwise.records.db_paths import writable as _writable
from wattwise.records.kept_open import keep_open, odd_beside
from wattwise.records.read_wait import STEP_S, retried
from wattwise.records.stored_json import Undecoded
from wattwise.records.writer import LOCK_POLL_S, Writer, is_busy

_REGISTRY: dict[tuple[int, str], Database] = {}
_REGISTRY_LOCK = threading.Lock()
#: Connections a forked child inherited: kept referenced, never closed by the child.
_INHERITED: list[object] = []


class _Readers:
    """One read connection per thread; a thread's connection is closed once the
    thread has ended (checked whenever a new one opens), so a long-lived store
    read from many short-lived threads never runs out of file descriptors."""

    def __init__(self) -> None:
        self._local = threading.local()
        self._open: list[tuple[threading.Thread, sqlite3.Connection]] = []
        self._lock = threading.Lock()

    def get(self, generation: int = 0) -> sqlite3.Connection | None:
        """This thread's connection, if it was opened at ``generation``; one opened
        before is closed (its page cache may hold pages of a file since replaced in
        place: ``ReadOnlyDatabase.reader``)."""
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is not None and getattr(self._local, "generation", 0) != generation:
            with self._lock:
                self._open = [(t, c) for t, c in self._open if c is not conn]
            with contextlib.suppress(sqlite3.Error):
                conn.close()
            self._local.conn = conn = None
        return conn

    def add(self, conn: sqlite3.Connection, generation: int = 0) -> None:
        self._local.conn = conn
        self._local.generation = generation
        with self._lock:
            ended = [c for t, c in self._open if not t.is_alive()]
            self._open = [(t, c) for t, c in self._open if t.is_alive()]
            self._open.append((threading.current_thread(), conn))
        for c in ended:
            with contextlib.suppress(sqlite3.Error):
                c.close()

    def interrupt(self) -> None:
        """End the query each open connection runs now (safe from any thread)."""
        with self._lock:
            conns = [c for _, c in self._open]
        for conn in conns:
            with contextlib.suppress(sqlite3.Error):
                conn.interrupt()

    def close(self, path: Path | None = None) -> None:
        """Close every connection; none beside a side file that is no regular file."""
        with self._lock:
            readers, self._open = self._open, []
        if odd_beside(path):  # the last one's close would remove it (``kept_open``)
            keep_open(*(conn for _, conn in readers))
            readers = []
        for _, conn in readers:
            with contextlib.suppress(sqlite3.Error):
                conn.close()
        self._local = threading.local()

    def __len__(self) -> int:
        return len(self._open)


class Database:
    """The process's handle on one run-database file. Get it with ``acquire``."""

    def __init__(self, path: Path, key: tuple[int, str], max_rows: int) -> None:
        self.path = path
        self._key = key
        self.refs = 0
        self.dead = False
        self.readers = _Readers()
        #: Set once the writer's check of the file (``schema.check_file``: a held file
        #: judged from a copy included) has passed: what a command waits for.
        self.checked = threading.Event()
        self.writer = Writer(
            self._connect_writer,
            label=f"run database {path}",
            path=path,
            max_rows=max_rows,
            may_exit=self._may_exit,
            on_exit=self._forget,
        )

    def __repr__(self) -> str:
        return f"Database({str(self.path)!r}, refs={self.refs})"

    # -- connections ---------------------------------------------------------------

    def _connect_writer(self) -> sqlite3.Connection:
        schema.check_file(self.path)  # refused read-only: see there
        self.checked.set()
        _writable(self.path)
        conn = _connect(self.path, LOCK_POLL_S)
        try:
            version = schema.check_schema(conn, self.path)
            if version >= schema.FIRST_VERSION:  # never write into a file readers refuse
                check_whole(self.path, conn)
            mode = str(conn.execute("PRAGMA journal_mode").fetchone()[0]).lower()
            if mode != "wal":
                mode = str(conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]).lower()
                if mode != "wal":
                    import logging  # rare path: keep it out of every start-up

                    logging.getLogger(__name__).warning(
                        "run database %s: WAL not available (journal_mode=%s)", self.path, mode
                    )
            # NORMAL in WAL mode: a commit is in the WAL before it returns, so a
            # SIGKILL loses nothing committed; only an OS crash can lose the last few.
            conn.execute("PRAGMA synchronous = NORMAL")
            conn.execute("PRAGMA foreign_keys = ON")
            # the runs the dashboard's rule must judge, kept by triggers (``unsure_kept``)
            from wattwise.server import unsure_kept

            if version < schema.SCHEMA_VERSION or not unsure_kept.current_in(conn):
                conn.execute("BEGIN IMMEDIATE")
                try:
                    schema.migrate(conn)
                    if not unsure_kept.current_in(conn):  # another release's, or dropped
                        unsure_kept.install(conn)
                    conn.execute("COMMIT")
                except BaseException:
                    with contextlib.suppress(sqlite3.Error):
                        conn.execute("ROLLBACK")
                    raise
        except sqlite3.OperationalError as exc:
            conn.close()
            if is_busy(exc):
                raise
            raise _file_error(self.path, exc) from exc
        except sqlite3.DatabaseError as exc:
            conn.close()
            raise _file_error(self.path, exc) from exc
        except BaseException:
            conn.close()
            raise
        return conn

    def reader(self, timeout_s: float) -> sqlite3.Connection:
        """This thread's read connection (opened by SQLite, reads only)."""
        conn = self.readers.get()
        if conn is None:
            conn = _connect(self.path, STEP_S)  # a lock waited for in steps: ``read_wait``
            conn.execute("PRAGMA query_only = ON")
            self.readers.add(conn)
        return conn

    # -- life ------------------------------------------------------------------------

    def _may_exit(self) -> bool:
        with _REGISTRY_LOCK:
            if self.refs > 0 or self.writer.pending_rows > 0:
                return False
            self._forget_locked()
            return True

    def _forget(self) -> None:
        with _REGISTRY_LOCK:
            self._forget_locked()

    def _forget_locked(self) -> None:
        self.dead = True
        if _REGISTRY.get(self._key) is self:
            del _REGISTRY[self._key]

    def _close_readers(self) -> None:
        self.readers.close(self.path)


class ReadOnlyDatabase:
    """Reading a run database without ever changing it: no file is created at a
    missing path, no journal mode is switched, nothing is migrated, nothing written
    (``PRAGMA query_only``).

    Side files. SQLite reads a WAL database through its ``-wal`` and ``-shm``
    files and creates them if they are missing; only a connection that may write
    removes them, when it closes last (it checkpoints, then deletes both). A
    ``mode=ro`` connection never can, so every read would leave an empty ``-wal``
    and a 32 KB ``-shm`` beside a database that had none. So when no frame waits
    in a ``-wal`` and no ``-journal`` is there (no hot journal waits for a
    rollback), the file is opened ``mode=rw`` with ``query_only``: SQLite's own
    locks then decide at close whether this is the last connection, and only then
    are the side files removed. A writer that started meanwhile keeps them (its
    lock says so); if it ended first, its committed frames are checkpointed into
    the file as its own last close would have done. With frames in a ``-wal``, a
    ``-journal``, or a file this user may not write, it is ``mode=ro`` as before
    (and side files SQLite makes then stay). See docs/records.md.

    Its connections are SQLite's own, so they share the process's locks with any
    ``Database`` of the same file correctly.
    """

    def __init__(self, path: Path, timeout_s: float) -> None:
        _check_path(path, must_exist=True)
        self.path = path
        self._timeout_s = timeout_s
        self.readers = _Readers()
        #: The file's ``(st_dev, st_ino)`` once checked whole: a read refuses it once any
        #: reader in this process found it damaged (``read_error``).
        self._identity: tuple[int, int] | None = None
        #: Bumped when the file is read again after damage (``reader``).
        self._generation = 0
        try:
            conn = self.reader(timeout_s)
            version = retried(lambda: schema.check_schema(conn, path), timeout_s)
            if version >= schema.FIRST_VERSION:
                self._identity = retried(lambda: check_whole(path, conn), timeout_s)
        except sqlite3.DatabaseError as exc:
            self.close()
            raise _file_error(path, exc, as_read=True) from exc
        except BaseException:
            self.close()
            raise
        if version < schema.FIRST_VERSION:  # an older schema is read as it is
            self.close()
            raise none_yet_error(path, version)

    stopped: str | None = None  # why every read is refused from now on (``stop_reads``)
    #: What ``immutable_read.marks`` said of the file when a read opened it in a folder
    #: this user may not write (an immutable read, which SQLite never checks again; a
    #: plain one, which fails for good once the file turns to WAL mode): None elsewhere.
    _frozen: tuple[Any, ...] | None = None

    def stop_reads(self, why: str) -> None:
        """Refuse every read from now on (``why``) and end those running: the process is
        stopping, and a query of seconds must not hold its exit."""
        self.stopped = why
        self.readers.interrupt()

    def read_failed(self, exc: BaseException) -> StoreError:
        """A failed read in wattwise's words (``damaged_file.read_error``). "Malformed"
        pages met through this reader's cache of a file rewritten in place (a backup copied
        over it) are said, not judged, and every thread's next read opens a new
        connection."""
        err = read_error(self.path, exc, self.stopped, cached=True)
        if isinstance(err, ChangedWhileRead):
            self._generation += 1
        return err

    def reader(self, timeout_s: float) -> sqlite3.Connection:
        if self.stopped is not None:
            raise StoreError(f"run database {self.path}: not read: {self.stopped}")
        odd_side_file(self.path)  # a FIFO made since it opened: no read waits on it
        if self._identity is not None and damage_found(self.path, self._identity):
            # found damaged, then checked sound: new connections (a cache may hold its pages)
            self._generation += 1
        if self._frozen is not None and self._frozen != immutable_read.marks(self.path):
            self._frozen = None  # the file a read keeps was written since: read it anew
            self._generation += 1  # (a dashboard served its first state, or failed)
        conn = self.readers.get(self._generation)
        if conn is None:
            mispaired_log(self.path)  # a file moved in beside another's log: not read
            base = "file:" + urllib.parse.quote(str(self.path.absolute()))
            mode = "rw" if self._may_tidy() else "ro"
            # as it is before it is opened (the folder SQLite makes the side files in: a
            # link's target's)
            if not os.access(Path(os.path.realpath(self.path)).parent, os.W_OK):
                self._frozen = immutable_read.marks(self.path)
            conn = _connect(f"{base}?mode={mode}", STEP_S, uri=True)  # ``read_wait``
            conn.text_factory = _text
            try:
                conn.execute("PRAGMA query_only = ON")
                retried(partial(conn.execute, "SELECT count(*) FROM sqlite_master"),
                        timeout_s, self)  # the open's first read waits as reads do
            except sqlite3.OperationalError as exc:
                conn.close()
                if not (_cannot_make_side_files(exc)
                        and immutable_read.may_read_immutable(self.path)):
                    raise
                conn = _connect(base + "?mode=ro&immutable=1", STEP_S, uri=True)
                conn.text_factory = _text
            self.readers.add(conn, self._generation)
        return conn

    def _may_tidy(self) -> bool:
        """Open read-write (reads only) so SQLite removes the side files it makes:
        nothing waits in a ``-wal`` (none, or an empty one a reader left) or a
        ``-journal``, and this user may write the file and its folder (see the
        class docstring). Its side files are looked for where SQLite makes them: beside
        a link's target (a read through a link folded another file's log into it)."""
        real = Path(os.path.realpath(self.path))
        if os.path.lexists(f"{real}-journal"):
            return False
        try:
            if os.stat(f"{real}-wal").st_size > 0:
                return False
        except FileNotFoundError:
            pass
        except OSError:
            return False
        return os.access(real, os.W_OK) and os.access(real.parent, os.W_OK | os.X_OK)

    def same_process_writer(self) -> Writer | None:
        """This process's writer of the same file, if any: its queue is read first (in a
        process with none, the dashboard, no path is resolved)."""
        db = _REGISTRY.get((os.getpid(), os.path.realpath(self.path))) if _REGISTRY else None
        return None if db is None or db.dead else db.writer  # a dict's get is atomic

    def close(self) -> None:
        self.readers.close(self.path)


def _cannot_make_side_files(exc: sqlite3.OperationalError) -> bool:
    """SQLite's words where it could not open or make a ``-shm`` (a folder this user
    may not write)."""
    text = str(exc).lower()
    return "readonly" in text or "read-only" in text or "unable to open" in text


def _text(data: bytes) -> str:
    """A stored text as ``str``: bytes that are not UTF-8 as escapes, never an error
    (``stored_json.Undecoded``, which keeps them for a JSON read)."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return Undecoded(data)


def _connect(path: Path | str, timeout_s: float, *, uri: bool = False) -> sqlite3.Connection:
    conn = sqlite3.connect(
        str(path),
        uri=uri,
        timeout=timeout_s,
        isolation_level=None,  # transactions are explicit: BEGIN IMMEDIATE / COMMIT
        check_same_thread=False,  # so close() can close it; each is used by one thread
    )
    conn.row_factory = sqlite3.Row
    conn.execute(f"PRAGMA busy_timeout = {int(timeout_s * 1000)}")
    return conn


def _file_error(path: Path, exc: BaseException, as_read: bool = False) -> StoreError:
    """An open's error in wattwise's words; ``as_read``: a reader's open, which may have
    read the file half copied (``damaged_file.read_error``'s ``cached``)."""
    text = str(exc)
    if is_damage(exc):
        return read_error(path, exc, cached=as_read)
    if "not a database" in text:
        return StoreError(f"run database {path} is not a SQLite database; left untouched")
    if why := open_fault(path, text):  # a side file barred, or a log removed under a writer
        return StoreError(f"run database {path}: cannot open: {why}")
    return locked_error(path, exc, "open") or cut_short_error(path, exc) or StoreError(
        f"run database {path}: cannot open: {text}")


def acquire(path: Path, *, max_rows: int | None = None) -> Database:
    """The process's ``Database`` for ``path``, with one more reference (``release`` it);
    ``max_rows``: the writer's queue bound (default ``writer.MAX_PENDING_ROWS``)."""
    from wattwise.records import writer as _writer

    max_rows = _writer.MAX_PENDING_ROWS if max_rows is None else max_rows
    key = (os.getpid(), os.path.realpath(path))
    old = _REGISTRY.get(key)
    if old is not None and old.writer.alive and _left_its_name(old):
        # its writer's refusal empties its -wal into its own file (else moves it out of the
        # path's way) and closes it first: a connection opened at the path would read
        # those frames as the new file's own; before the path is checked, as it is then
        with contextlib.suppress(StoreError):
            old.writer.submit(_writer.Task(lambda conn: None, what="check its file"))
        old.writer.drain(5.0 + _writer.FOLD_PATIENCE_S)
    _check_path(path)
    with _REGISTRY_LOCK:
        db = _REGISTRY.get(key)
        if db is None or db.dead or not db.writer.alive or _left_its_name(db):
            db = Database(path, key, max_rows)
            _REGISTRY[key] = db
        db.refs += 1
        return db


def _left_its_name(db: Database) -> bool:
    """Whether ``db``'s file is no longer at its path (``file_identity``): deleted or
    replaced (its writer refuses), or moved with its folder and idle; a run that asks for
    the path then gets the file there now, not the one that left (it went on in the
    moved file, unsaid, or was refused)."""
    watch = db.writer.watch
    return watch is not None and (watch.gone() is not None or (
        db.refs <= 0 and db.writer.pending_rows == 0 and watch.moved()))


def release(db: Database, *, linger_s: float = 0.0) -> None:
    """Drop one reference; the last one lets the writer finish its queue and close.

    Without ``linger_s``, the file is closed when this returns unless another
    process holds the lock; queued writes (a run that ended while it was locked)
    still land: the writer goes on until they are committed.
    """
    with _REGISTRY_LOCK:
        db.refs -= 1
        last = db.refs <= 0
    if last:
        db._close_readers()
        db.writer.stop_when_idle(linger_s)
        if linger_s == 0:  # this process's queued writes first, unless locked out
            db.writer.drain(5.0, unless_locked_s=0.25)
        deadline = time.monotonic() + 5.0
        while (linger_s == 0 and db.writer.pending_rows == 0 and db.writer.alive
               and db.refs <= 0 and time.monotonic() < deadline):
            db.writer.join(0.01)


def open_databases() -> list[Database]:
    """Every database this process has open (for tests and the exit flush)."""
    with _REGISTRY_LOCK:
        return [db for (pid, _), db in _REGISTRY.items() if pid == os.getpid()]


def rows_queued() -> int:
    """Rows of run records this process has queued and not yet written. Without the
    registry's lock: a signal handler asks it, maybe while its own thread holds it."""
    me = os.getpid()
    return sum(db.writer.pending_rows for (pid, _), db in list(_REGISTRY.items()) if pid == me)


def flush_all(timeout_s: float) -> int:
    """Wait up to ``timeout_s`` for every queued write of this process; rows left over."""
    deadline = time.monotonic() + timeout_s
    left = 0
    for db in open_databases():
        if not db.writer.drain(max(0.0, deadline - time.monotonic())):
            left += db.writer.pending_rows
    return left


def _flush_at_exit() -> None:
    """Write what is queued, then close every connection (``records.exit_wait``)."""
    from wattwise.records.exit_wait import flush_and_close

    # looked up at exit: the tests put their own in
    flush_and_close(open_databases, flush_all, rows_queued)


def _after_fork_in_child() -> None:
    # The parent's connections and writer threads are not this process's: keep
    # them referenced so they are never closed here (closing would touch the
    # parent's files), and start afresh.
    global _REGISTRY_LOCK
    _REGISTRY_LOCK = threading.Lock()  # another thread may have held it at the fork
    _INHERITED.extend(_REGISTRY.values())
    _REGISTRY.clear()


atexit.register(_flush_at_exit)
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)
