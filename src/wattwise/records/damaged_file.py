"""A damaged run database is refused whole, with one line, by every reader alike.

Why: SQLite reads a damaged file (``SQLITE_CORRUPT``: a page overwritten, a copy cut
short) until a query meets a damaged page, and which pages a query meets depends on its
plan (an index or the table). So ``wattwise runs`` listed the runs while ``show`` of
each failed, and the dashboard's runs list failed or not by sort order, while
``/metrics`` summed what it read. Here:

- opening a file read-only (the CLI's views, the dashboard) runs SQLite's
  ``PRAGMA quick_check`` once per state of the file in a process (``check_whole``), for
  files up to ``CHECK_MAX_BYTES``: it reads every page (about 1.5 ms per MB in the page
  cache), which each CLI command would pay again; a larger file is judged by its reads
  alone;
- a read that meets a damaged page marks the file damaged for every later read of this
  process (``read_error``, ``damage_found``), whatever the check said before; where a
  kept reader met it (the dashboard's, whose cache may hold a file since copied over,
  or half copied), only once the file has been quiet for ``SETTLE_S`` and fails a check
  by another process (``_changed_while_read``): else it is "try again";
- both give one line (``damaged_error``): the file, what SQLite said, that it is left
  as it is, and SQLite's own way to save what still reads into a new file.
"""

from __future__ import annotations

import contextlib
import os
import shlex
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.parse
from pathlib import Path
from typing import Any

from wattwise.errors import LOCKED_WHY, StoreError, StoreLocked
from wattwise.records.db_paths import odd_side_file, open_fault, side_file
from wattwise.records.immutable_read import hot_journal, may_read_immutable

#: SQLite's result code for a damaged file (``SQLITE_CORRUPT``); its extended codes
#: (``SQLITE_CORRUPT_INDEX`` ...) keep it in their low byte.
_CORRUPT = 11
#: SQLite's own words for that code (``sqlite3_errstr``).
MALFORMED = "database disk image is malformed"
#: The largest file (with its write-ahead log) checked whole when opened: about 0.8 s in
#: the page cache at 1.5 ms per MB (0.52 s for a 354 MB file of 100,000 runs, AMD EPYC).
CHECK_MAX_BYTES = 512 * 1024 * 1024
#: What this process found of each file: ``(st_dev, st_ino)`` -> (the file's state when
#: found, ``_state``; whether it is damaged).
_CHECKED: dict[tuple[int, int], tuple[tuple[int, int, int], bool]] = {}
_CHECKED_LOCK = threading.Lock()
#: Seconds after its last write a file is taken as still being written: ``cp`` writes a
#: backup over a file in pieces, and its size and modification time (to the clock's
#: coarse tick) can read as they will stay while pages are still to come, so a check
#: then found a sound file damaged, and the verdict stood for that state. Damage met in
#: a file written more recently is said, not judged (``_changed_while_read``).
SETTLE_S = 1.0


class ChangedWhileRead(StoreError):
    """A read met "malformed" pages of a file that checks sound on a connection of its
    own: the reader's cache held the file as it was before it was rewritten in place."""


def is_damage(exc: BaseException) -> bool:
    """Whether SQLite found the file damaged (``SQLITE_CORRUPT``), not locked or gone."""
    code = getattr(exc, "sqlite_errorcode", None)  # Python 3.11+
    if isinstance(code, int):
        return code & 0xFF == _CORRUPT
    return isinstance(exc, sqlite3.DatabaseError) and MALFORMED in str(exc)


def damaged_error(path: Path, said: str = "nothing is read or written") -> StoreError:
    """The one line every output gives for a damaged file (SQLite's words, the same
    whichever read or check found it), with SQLite's way to save what still reads; the
    path is in it twice only, so the line is whole on the CLI's one error line
    (``cli._common.MAX_LINE``) for paths up to about 120 characters. ``said``: what
    follows from it, where it is not a refused read (``damage_left``)."""
    return StoreError(
        f"run database {path} is damaged (SQLite: {MALFORMED}); {said}. Save what "
        f"still reads: sqlite3 {shlex.quote(str(path))} .recover | "
        "sqlite3 recovered.db, then check its runs (.recover needs a sqlite3 built with "
        "the dbpage table, as sqlite.org's is; Debian's fails with 'SQL logic error')"
    )


def cut_short_error(path: Path, exc: BaseException) -> StoreError | None:
    """The line for a read refused over a write that was cut short (a hot ``-journal``:
    SQLite rolls it back at the first read-write open, and a read asks to write it back),
    or None for any other error: a reader said "attempt to write a readonly database",
    which no one asked of it."""
    if "readonly" not in str(exc) or not hot_journal(path):
        return None
    return StoreError(
        f"run database {path} holds a write that was cut short (its -journal): a read "
        "cannot undo it; the next `wattwise run` into it does (or `sqlite3` opening it); "
        "left untouched")


def read_error(path: Path, exc: BaseException, stopped: str | None = None, *,
               cached: bool = False) -> StoreError:
    """A failed read in wattwise's words; a damaged page marks the whole file damaged for
    every later reader in this process (``check_whole``, ``damage_found``). ``stopped``:
    why the reads were ended (``ReadOnlyDatabase.stop_reads``), said for a query it
    interrupted rather than SQLite's "interrupted". ``cached``: the read went through a
    connection whose cache may hold the file as it was, or as it was half copied (a
    kept reader's, or one opened as the file was copied): damage met there is judged on
    a connection of its own first (``_changed_while_read``)."""
    if stopped is not None:  # interrupted, or meeting a file let go of: said, not judged
        # (a read through the cache of a file rewritten in place meets "malformed" pages of
        # a sound file: marked, every later reader of the file put back was refused)
        return StoreError(f"run database {path}: not read: {stopped}")
    if not is_damage(exc):
        if cached and "no such table" in str(exc) and written_just_now(path):
            return changed_error(path)  # a file half copied over it: no table there yet
        if held := locked_error(path, exc, "read"):
            return held
        why = open_fault(path, str(exc))  # a log removed under a writer: no failing disk
        return cut_short_error(path, exc) or StoreError(f"run database {path}: cannot read:"
                                                        f" {why or exc}")
    if cached and _changed_while_read(path):
        return changed_error(path)
    with contextlib.suppress(OSError, ValueError):
        key, state = _state(path)
        with _CHECKED_LOCK:
            _CHECKED[key] = (state, True)
    return damaged_error(path)


def locked_error(path: Path, exc: BaseException, what: str) -> StoreLocked | None:
    """``StoreLocked`` where SQLite refused to ``what`` (read, open) with "database is
    locked": another connection held the write lock past the busy timeout; else None."""
    if isinstance(exc, sqlite3.OperationalError) and "database is locked" in str(exc):
        return StoreLocked(f"run database {path}: cannot {what}: {LOCKED_WHY}")
    return None


def none_yet_error(path: Path, version: int) -> StoreError:
    """A file of no wattwise schema yet: said so, or, written less than ``SETTLE_S`` ago,
    "try again" (a backup half copied over a served file read as schema version 0)."""
    if written_just_now(path):
        return changed_error(path)
    return StoreError(f"run database {path} has no wattwise runs yet (schema version "
                      f"{version}); nothing to read")


def changed_error(path: Path) -> ChangedWhileRead:
    return ChangedWhileRead(f"run database {path}: not read: it was rewritten in place "
                            "while it was read (try again)")


def _changed_while_read(path: Path) -> bool:
    """Whether "malformed" pages met through a connection kept open, or opened as the file
    was copied, were the file rewritten in place under it (a backup copied over a served
    file: requests in flight read its new pages through the old cache, or read it half
    copied, and the dashboard called the sound file damaged, for good once its state
    stopped moving): the file was written less than ``SETTLE_S`` ago, or it checks sound
    now, read by another process (``_sound_afresh``), or it was written while that check
    read it (a restore begun meanwhile: the check failed on the half-copied file, and the
    verdict stood for the restored file's state). A file larger than ``CHECK_MAX_BYTES``
    is not checked, and judged damaged once settled."""
    try:
        _, state = _state(path)
    except (OSError, ValueError):
        return False
    if written_just_now(path):
        return True
    if _too_large(state) or _sound_afresh(path):
        return not _too_large(state)
    try:
        return _state(path)[1] != state or written_just_now(path)
    except (OSError, ValueError):
        return False


def written_just_now(path: Path) -> bool:
    """Whether the file was written less than ``SETTLE_S`` ago (it may be half copied).
    A modification time ahead of the clock (a skewed clock's write, ``touch -d``, a copy
    keeping it) is no recent write: its damage went unjudged, "try again" for good."""
    try:
        return 0 <= time.time() - os.stat(path).st_mtime < SETTLE_S
    except (OSError, ValueError):
        return False


#: What ``_sound_afresh``'s child runs: SQLite's ``quick_check`` of the file at ``argv[1]``
#: (a URI), exit 0 where it finds every page sound.
_CHECK_CHILD = ("import sqlite3, sys\n"
                "try:\n"
                "    c = sqlite3.connect(sys.argv[1], uri=True, timeout=1.0)\n"
                "    r = c.execute('PRAGMA quick_check(1)').fetchone()\n"
                "except sqlite3.Error:\n"
                "    sys.exit(3)\n"
                "sys.exit(0 if r and r[0] == 'ok' else 3)\n")


def _sound_afresh(path: Path) -> bool:
    """Whether ``PRAGMA quick_check`` finds the file sound, read as a reader reads it
    (``damage_found``), by another process: connections opened in this one share
    SQLite's view of the file (its WAL index) with those still open here, and one
    opened to check a file copied over a served one found it "malformed" where it was
    sound. False where it cannot tell (about 50 ms: it runs only on damage met)."""
    try:
        odd_side_file(path)  # a FIFO there: an open would wait on it for good
    except StoreError:
        return False
    try:
        done = subprocess.run([sys.executable, "-I", "-S", "-c", _CHECK_CHILD, check_uri(path)],
                              capture_output=True, timeout=60, check=False)
    except (OSError, subprocess.SubprocessError):
        return False
    return done.returncode == 0


def forget(path: Path) -> None:
    """Forget what this process found of the file now at ``path``: it was replaced or
    rewritten in place since, and reads through the old file's cache may have met its new
    pages as damaged ones. It is checked afresh when next opened."""
    with contextlib.suppress(OSError, ValueError):
        key, _ = _state(path)
        with _CHECKED_LOCK:
            _CHECKED.pop(key, None)


def check_whole(path: Path, conn: sqlite3.Connection) -> tuple[int, int]:
    """The file's ``(st_dev, st_ino)`` once SQLite's ``PRAGMA quick_check`` finds every
    page sound, else ``damaged_error``; once per state of the file (``_state``) in a
    process. It reads the whole file: about 0.5 s for 354 MB (100,000 runs) in the page
    cache, seconds from disk; a file larger than ``CHECK_MAX_BYTES`` is not checked here
    (a read that meets a damaged page still refuses it from then on). ``conn`` may have
    read the file half copied as it opened: damage it finds is judged on a connection
    of its own first (``_changed_while_read``), and a file sound there is
    ``changed_error``, never marked."""
    try:
        key, state = _state(path)
    except OSError as exc:  # gone or replaced since it was opened
        raise StoreError(f"run database {path}: cannot open: {exc.strerror or exc}") from None
    with _CHECKED_LOCK:
        known = _CHECKED.get(key)
    if known is not None and known[0] == state:
        damaged = known[1]
    elif _too_large(state):
        damaged = False  # not checked: a read that meets damage marks it (``read_error``)
        with _CHECKED_LOCK:
            _CHECKED[key] = (state, damaged)
    else:
        try:
            row = _quick_check(conn)
            damaged = row is None or row[0] != "ok"
        except sqlite3.DatabaseError as exc:
            if not is_damage(exc):
                raise
            damaged = True
        if damaged and _changed_while_read(path):
            raise changed_error(path)
        with _CHECKED_LOCK:
            _CHECKED[key] = (state, damaged)
    if damaged:
        raise damaged_error(path)
    return key


#: How long the check at a run's end (``damage_left``) may read the file: the whole of
#: one of 354 MB (100,000 runs) takes about 0.5 s in the page cache.
END_CHECK_S = 2.0
#: How many of SQLite's steps pass between two looks at the clock in that check.
_CLOCK_EVERY = 10_000


def damage_left(path: Path, said: str, budget_s: float = END_CHECK_S) -> StoreError | None:
    """``damaged_error`` where the file a run was just recorded into is damaged, found by
    SQLite's ``quick_check`` on a connection of its own (a file damaged while ``wattwise
    run`` recorded ended "exit code 0" with no word, and nothing could read it); None
    where it is sound, sound to another process (``_sound_afresh``), larger than
    ``CHECK_MAX_BYTES``, not checked whole within ``budget_s``, or not to be opened."""
    try:
        odd_side_file(path)  # a FIFO there: an open would wait on it for good
        if _too_large(_state(path)[1]):
            return None
        conn = sqlite3.connect(check_uri(path), uri=True, timeout=1.0)
    except (StoreError, OSError, ValueError, sqlite3.Error):
        return None
    deadline = time.monotonic() + budget_s
    conn.set_progress_handler(lambda: time.monotonic() > deadline, _CLOCK_EVERY)
    try:
        row = conn.execute("PRAGMA quick_check(1)").fetchone()
        damaged = row is None or row[0] != "ok"
    except sqlite3.DatabaseError as exc:
        damaged = is_damage(exc)  # out of time, locked, gone: nothing found
    finally:
        conn.close()
    # found again by another process (the run's own checkpoint wrote the file just now:
    # the "try again" of a file written less than SETTLE_S ago does not apply)
    return damaged_error(path, said) if damaged and not _sound_afresh(path) else None


def _quick_check(conn: sqlite3.Connection) -> Any:
    """``PRAGMA quick_check(1)``'s row, ended by a Ctrl-C as it comes: the check runs
    inside one SQLite call for seconds on a large file not in the page cache, and
    Python runs a signal's handler only between its own steps, so a Ctrl-C at the
    dashboard's start once waited 22 s for it. In the main thread, with Python's own
    Ctrl-C handler in place, the signal's number reaches a watching thread through
    ``signal.set_wakeup_fd`` (written by the C handler at once), which interrupts
    SQLite (``Connection.interrupt``); KeyboardInterrupt is then raised as before."""
    if threading.current_thread() is not threading.main_thread() \
            or signal.getsignal(signal.SIGINT) is not signal.default_int_handler:
        return conn.execute("PRAGMA quick_check(1)").fetchone()
    ours, theirs = socket.socketpair()
    theirs.setblocking(False)
    try:
        before = signal.set_wakeup_fd(theirs.fileno(), warn_on_full_buffer=False)
    except ValueError:
        before = None
    if before != -1:  # another wakeup fd is in place (an event loop's): left alone
        if before is not None:
            signal.set_wakeup_fd(before)
        ours.close()
        theirs.close()
        return conn.execute("PRAGMA quick_check(1)").fetchone()
    asked: list[int] = []
    done = threading.Event()

    def watch() -> None:
        ours.settimeout(1.0)  # a socket's own wait (poll): no limit on the fd's number
        while not done.is_set():
            try:
                got = ours.recv(64)
            except TimeoutError:
                continue
            except OSError:
                return
            if signal.SIGINT in got:
                conn.interrupt()
                return

    signal.signal(signal.SIGINT, lambda signum, frame: asked.append(signum))
    watcher = threading.Thread(target=watch, name="wattwise-check-watch", daemon=True)
    watcher.start()
    try:
        return conn.execute("PRAGMA quick_check(1)").fetchone()
    except sqlite3.OperationalError:
        if asked:
            raise KeyboardInterrupt from None
        raise
    finally:
        done.set()
        with contextlib.suppress(OSError):
            theirs.send(b"\0")  # wakes the watcher now
        watcher.join()
        signal.set_wakeup_fd(-1)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        ours.close()
        theirs.close()
        if asked:  # one that came as the check ended
            raise KeyboardInterrupt


def damage_found(path: Path, key: tuple[int, int]) -> bool:
    """Raise ``damaged_error`` if this process found the file ``key`` damaged and it has
    not changed since; one changed since (repaired or restored in place, as a dashboard
    that serves on may see) is checked whole again, on a connection of its own: True
    where it was found sound then (the caller's connections may cache damaged pages)."""
    with _CHECKED_LOCK:
        known = _CHECKED.get(key)
    if known is None or not known[1]:
        return False
    try:
        now, state = _state(path)
    except OSError:
        raise damaged_error(path) from None
    if now != key or state == known[0]:
        raise damaged_error(path)
    conn = sqlite3.connect(check_uri(path), uri=True, timeout=1.0)
    try:
        check_whole(path, conn)
    except sqlite3.Error:
        raise damaged_error(path) from None
    finally:
        conn.close()
    return True


def check_uri(path: Path) -> str:
    """The URI a check opens the file by, as a reader reads it: immutable where SQLite can
    make no -shm (a sound file put back beside a stale -wal, the -wal then removed, stayed
    "damaged" until the dashboard restarted)."""
    uri = f"file:{urllib.parse.quote(str(path.absolute()))}?mode=ro"
    return uri + "&immutable=1" if may_read_immutable(path) else uri


def _too_large(state: tuple[int, int, int]) -> bool:
    """Whether a file of ``state`` (``_state``'s) and its ``-wal`` are larger than
    ``CHECK_MAX_BYTES``: not checked whole by any check here."""
    return state[0] + state[2] > CHECK_MAX_BYTES


def _state(path: Path) -> tuple[tuple[int, int], tuple[int, int, int]]:
    """The file's identity and state (its size and change time, its ``-wal``'s size);
    ``immutable_read.marks`` is the immutable reader's own, which also sees side files
    come and go."""
    st = os.stat(path)
    try:
        wal = os.stat(side_file(path, "-wal")).st_size
    except FileNotFoundError:
        wal = 0
    return (st.st_dev, st.st_ino), (st.st_size, st.st_mtime_ns, wal)
