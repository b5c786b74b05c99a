"""The dashboard's run database: opened read-only on first need, again whenever the file
at its path is another one, and closed only once nothing reads it."""

from __future__ import annotations

import contextlib
import os
import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path

from wattwise.errors import BadInput, StoreError, WattwiseError
from wattwise.records.damaged_file import check_uri, forget, written_just_now
from wattwise.records.db_paths import odd_side_file
from wattwise.records.kept_open import keep_open, odd_beside
from wattwise.records.store import Store
from wattwise.server._sql import Reads
from wattwise.server.in_place import RewriteWatch
from wattwise.server.runs_index import BuildStopped


class RunsFile:
    """The run database, opened read-only on first need, and again whenever the file
    at the path is another one.

    The dashboard may start before anything was recorded: while there is no file,
    there are no runs, and the file is picked up once a run creates it. Each
    request ``stat``s the path (microseconds): a file replaced (``mv``, a restored
    backup: another ``st_dev``/``st_ino``) is opened afresh, with a new runs index,
    so the page never shows the old file's runs; a file deleted after it was read
    is a 503 that says so until one is back. A file rewritten in place (``cp
    backup.db runs.db``: the same inode) is opened afresh too (``in_place``).

    The old file's handles are closed before the new file is opened: both would
    use the same ``-wal``/``-shm`` names, and SQLite must never see two databases
    through one ``-shm``. Requests are counted (``enter``/``leave``); while another
    request still reads the old file, a request that finds it replaced is a 503
    (try again), and the last request to leave closes the old handles.

    Not while a FIFO, a folder or a device sits at a side file's name: SQLite's last
    connection to a file removes its ``-wal`` and ``-shm`` by name as it closes, whatever
    is there by then (a FIFO put at the ``-shm`` was removed by the dashboard, whose
    answer for one says it is left untouched). The old handles wait, each request is a
    503 that names the side file, and they are closed once it is gone.
    """

    def __init__(self, path: Path, timeout_s: float = 30.0) -> None:
        self.path = path
        #: how long one read waits for another program's write lock (SQLite's busy timeout)
        self.timeout_s = timeout_s
        self._store: Store | None = None
        self._reads: Reads | None = None
        self._identity: tuple[int, int] | None = None
        self._watch: RewriteWatch | None = None  # the open file as last looked at
        #: SQLite's ``schema_version`` of the file when it was opened and checked: a table
        #: changed in place (another program's edit) is checked again, as a new file is
        self._schema: int | None = None
        self._seen = False  # a file was opened at the path at some point
        self._stale = False  # a read found the open file's cache behind it (``holds_run``)
        self._stopping = False  # the server is stopping: no index build begins
        self._retired: list[tuple[Store | None, Reads | None]] = []
        self._active = 0  # requests in flight (``enter``/``leave``)
        self._lock = threading.Lock()  # held over reads of the file: seconds where locked
        #: guards ``_active`` alone, never held over a read: ``enter`` and ``leave`` run
        #: on the server's event loop, and one that waited for ``_lock`` while another
        #: program held the file's write lock (a rollback-journal file) stalled every
        #: request, a static file or a 404 too, for as long as that lock was held
        self._count = threading.Lock()
        self._opens = _Opens()

    def enter(self) -> None:
        with self._count:
            self._active += 1

    def leave(self) -> None:
        with self._count:
            self._active -= 1
            idle = self._active <= 0
        # the handles let go of are closed by the last request to leave, where no read
        # holds ``_lock`` now; else by the next ``store()`` (never waited for here)
        if idle and self._retired and self._lock.acquire(blocking=False):
            try:
                with contextlib.suppress(StoreError):  # said by the next request
                    self._close_retired_locked()
            finally:
                self._lock.release()

    @contextlib.contextmanager
    def held(self) -> Iterator[None]:
        """Work that reads in a thread of its own (a scrape's collection, which may
        outlive its request) counted as a request is (``enter``/``leave``)."""
        self.enter()
        try:
            yield
        finally:
            self.leave()

    def _close_retired_locked(self) -> None:
        """Close the handles let go of, unless a side file is no regular file
        (``odd_side_file`` raises: their close would remove it)."""
        if self._retired:
            odd_side_file(self.path)
        for store, reads in self._retired:
            _close(store, reads)
        self._retired = []

    def _current(self) -> tuple[int, int] | None:
        """The file at the path now (``st_dev``, ``st_ino``), or None if there is none."""
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as exc:
            raise StoreError(f"run database {self.path}: cannot open: "
                             f"{getattr(exc, 'strerror', None) or exc}") from None
        return st.st_dev, st.st_ino

    def store(self) -> Store | None:
        # the tables' version read outside the lock (held by the request, ``enter``): under
        # another program's write lock it waits up to ``timeout_s``, and the requests that
        # waited for the lock meanwhile each waited theirs after it (503s at 30 s, 60 s)
        asked = time.monotonic()
        with self._lock:
            opened, schema = self._store, self._schema
        version, failed = None, None
        if opened is not None:
            try:
                version = opened.schema_version()
            except StoreError as exc:  # raised below unless the file was let go meanwhile
                failed = exc
        with self._lock:
            identity = self._current()
            same = self._store is not None and identity == self._identity
            # its tables changed in place: read afresh and checked again, as a new file
            altered = same and (self._stale
                                or (self._watch is not None and self._watch.rewritten())
                                or (self._store is opened and failed is None
                                    and version != schema))
            if failed is not None and same and self._store is opened and not altered:
                raise failed  # the open file as it is: locked past the wait, or damaged
            if self._identity is not None and (identity != self._identity or altered):
                # Replaced or deleted since it was opened: let go of the old file. Its reads
                # in flight end now and later ones are refused, so the requests and
                # collections reading it leave soon; its connections are closed once none
                # reads them (one closed under a query crashes the process)
                for old in (self._reads, self._store):
                    if old is not None:
                        old.stop_reads("the file was replaced or removed while the "
                                       "dashboard read it (try again)")
                self._retired.append((self._store, self._reads))
                self._store, self._reads, self._identity = None, None, None
                self._stale = False
                forget(self.path)  # a verdict read through the old file's cache
            if self._retired:
                # a side file that is no regular file named first: waiting for the other
                # requests to finish mends nothing there (``_close_retired_locked``)
                odd_side_file(self.path)
                with self._count:
                    others = self._active > 1
                if others:
                    raise StoreError(
                        f"run database {self.path} was replaced or removed while the "
                        "dashboard read it; other requests are finishing with the old "
                        "file (try again)"
                    )
                self._close_retired_locked()
            if identity is None:
                if self._seen:
                    raise StoreError(
                        f"run database {self.path} is gone (deleted or moved while the "
                        "dashboard runs); it is read again once a file is back there"
                    )
                return None
            if self._store is None and _empty(self.path):
                return None  # no runs yet (``touch runs.db``): its first run writes them
            if self._store is None:
                self._store, self._schema = self._opens.open(self.path, self.timeout_s, asked)
                self._identity = identity
                self._watch = RewriteWatch(self.path)  # its -shm made by the read above
                self._seen = True
            return self._store

    def holds_run(self, ref: str) -> bool:
        """Whether a run found missing (``ref``: its id or name) is in the file as it is
        now, where the file was written less than ``damaged_file.SETTLE_S`` ago: read half
        copied over (``cp backup.db runs.db``), a connection's cache held the copy's first
        pages, and a run in both files was a 404. Looked up on a connection of its own;
        where it is there, the file is opened afresh at the next request."""
        if not written_just_now(self.path):
            return False
        by_id = ref.lstrip("-").isdigit() and len(ref) <= 19
        try:
            odd_side_file(self.path)  # a FIFO there: an open would wait on it for good
            conn = sqlite3.connect(check_uri(self.path), uri=True, timeout=1.0)
            try:
                found = conn.execute(f"SELECT 1 FROM runs WHERE {'id' if by_id else 'name'} = ?",
                                     (int(ref) if by_id else ref,)).fetchone() is not None
            finally:
                conn.close()
        except (StoreError, sqlite3.Error, OSError, ValueError, OverflowError):
            return False
        if found:
            with self._lock:
                self._stale = True
        return found

    def reads(self) -> Reads | None:
        """The aggregating queries over the same file (``_sql``), opened with the store."""
        if self.store() is None:
            return None
        with self._lock:
            if self._reads is None:
                self._reads = Reads(self.path, self.timeout_s)
            return self._reads

    def require(self) -> Store:
        store = self.store()
        if store is None:
            raise BadInput(f"no runs yet in {self.path}")
        return store

    def warm(self) -> None:
        """Build the runs index and its sort orders now (requests meanwhile are answered
        from SQLite where it can, ``Reads.runs_page``); a database that cannot be read
        yet says so later."""
        self.enter()
        try:
            with contextlib.suppress(WattwiseError, BuildStopped):
                reads = self.reads()
                if reads is not None:
                    if self._stopping:  # stopped before the build began
                        return
                    reads.warm()
        finally:
            self.leave()

    def stop_warm(self, *, resume: bool = False) -> None:
        """The index build (``warm``) ends at its next pause: the server is stopping, and
        waited for it up to 30 s (seconds of building for 100,000 runs); with ``resume``,
        it serves again (a new lifespan of the same app) and builds."""
        with self._lock:
            self._stopping = not resume
            reads = self._reads
        if reads is not None and not resume:
            reads.stop_warm()

    def halt(self) -> None:
        """The process is stopping (a signal): the reads in flight end now, and later ones
        are refused, so a request of seconds (a million samples summed) does not hold the
        exit while the server waits for every request to end."""
        why = "the dashboard is stopping"
        self.stop_warm()
        with self._lock:
            held = [(self._store, self._reads), *self._retired]
        for store, reads in held:
            if reads is not None:
                reads.stop_reads(why)
            if store is not None:
                store.stop_reads(why)

    def close(self) -> None:
        """Close every handle, but none while a side file is no regular file: they are
        kept past the interpreter's end (``records.kept_open``) and end with the process,
        which removes no file."""
        with self._lock:
            if odd_beside(self.path):
                keep_open(self._store, self._reads, *(h for r in self._retired for h in r))
                return
            _close(self._store, self._reads)
            self._close_retired_locked()
            self._store, self._reads = None, None


class _Opens:
    """Opens of the file, under ``RunsFile._lock``. One refused (another program's write
    lock held past the busy timeout, a damaged file) is the answer of every request that
    waited for the lock meanwhile: each waited its own timeout after the one before it
    (503s at 30 s, 55 s, 75 s for requests 5 s apart, after a locked file was moved in)."""

    def __init__(self) -> None:
        self._refused: tuple[float, StoreError] | None = None  # when, and what was said

    def open(self, path: Path, timeout_s: float, asked: float) -> tuple[Store, int]:
        """The store of the file at ``path`` and its schema version, for a request that
        began at ``asked`` (``time.monotonic``)."""
        if self._refused is not None and self._refused[0] >= asked:
            raise type(self._refused[1])(str(self._refused[1]))
        store = None
        try:
            store = Store(path, readonly=True, timeout_s=timeout_s)
            return store, store.schema_version()
        except StoreError as exc:
            if store is not None:
                store.close()
            self._refused = (time.monotonic(), exc)
            raise


def _empty(path: Path) -> bool:
    """Whether the file at ``path`` holds no byte (a missing one is not empty: said gone)."""
    try:
        return os.stat(path).st_size == 0
    except OSError:
        return False


def _close(store: Store | None, reads: Reads | None) -> None:
    # the reads first: closing them waits for the notes passes, which read through the
    # store too (a connection closed under a query in another thread crashes the process)
    if reads is not None:
        reads.close()
    if store is not None:
        store.close()

