"""Whether the ``-wal`` and ``-shm`` beside a database are another database's.

SQLite names a database's write-ahead log and its index after the path, not the file.
A database renamed or moved away while a process still writes it leaves that process
holding ``a.db-wal`` and ``a.db-shm``; a file then created or moved in at ``a.db`` is
opened with them, and SQLite says "disk I/O error" or reads the file as damaged. Those
words blame the file; this module finds the case, so the line can say what it is.

It reads ``/proc`` (Linux) and never opens the ``-shm``: closing any descriptor of a file
drops this process's own SQLite locks on it. Elsewhere it finds nothing, and the line
stays SQLite's.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

_PROC_LOCKS = Path("/proc/locks")


def _key(st: os.stat_result) -> tuple[int, int]:
    return st.st_dev, st.st_ino


def _lock_holders(shm: os.stat_result) -> set[int]:
    """The processes other than this one holding a POSIX lock on the file ``shm``
    (SQLite holds one on a ``-shm``, and a shared one on the database file itself, for
    as long as it has a database in WAL mode open)."""
    try:
        text = _PROC_LOCKS.read_text()
    except OSError:
        return set()
    want = (os.major(shm.st_dev), os.minor(shm.st_dev), shm.st_ino)
    out: set[int] = set()
    for line in text.splitlines():
        # "1: POSIX  ADVISORY  READ 1234 fd:01:5678 128 128"; a waiter's line has "->"
        parts = line.split()
        if len(parts) < 8 or parts[1] != "POSIX":
            continue
        try:
            pid = int(parts[4])
            major, minor, inode = parts[5].split(":")
            key = (int(major, 16), int(minor, 16), int(inode))
        except ValueError:
            continue
        if key == want and pid > 0 and pid != os.getpid():
            out.add(pid)
    return out


def _has_open(pid: int, file: tuple[int, int]) -> bool | None:
    """Whether process ``pid`` has the file ``file`` open; None where its descriptors
    cannot be read (another user's process)."""
    folder = f"/proc/{pid}/fd"
    try:
        names = os.listdir(folder)
    except OSError:
        return None
    for name in names:
        try:
            if _key(os.stat(os.path.join(folder, name))) == file:
                return True
        except OSError:
            continue
    return False


#: How long apart the looks at a holder are, seconds: a process that ends (or closes the
#: database) with it open lets go of the file before its ``-shm`` (descriptors close in
#: order), and one look in that instant found a holder of the log without the file
#: (2 % of opens beside a loop of ``sqlite3`` reads).
LOOKS_APART_S = (0.05, 0.2)


def foreign_log_holders(path: Path | str) -> list[int]:
    """The processes holding the ``-shm`` beside ``path`` without having the file at
    ``path`` open (or with no file there), on each of three looks (``LOOKS_APART_S``):
    the ``-wal`` and ``-shm`` there are then the log of the database they have open, one
    that was at this path (renamed, moved away or deleted while it was open). Empty where
    there is no such process, or it cannot be told.

    The first look finds them in ``/proc/locks`` (read twice: a file of the kernel's made
    as it is read, which can skip a line while other locks come and go); the later ones
    ask each of them alone whether it still has the ``-shm`` open and not the file (SQLite
    holds the lock for as long as it has the ``-shm`` open)."""
    real = os.path.realpath(path)  # SQLite names the side files after a link's target
    found = {pid for pid in _locking(real) if _foreign(pid, real)}
    for wait in LOOKS_APART_S:
        if not found:
            break
        time.sleep(wait)
        found = {pid for pid in found if _foreign(pid, real)}
    return sorted(found)


def _locking(path: str) -> set[int]:
    """The processes other than this one holding a lock on the ``-shm`` beside ``path``."""
    try:
        shm = os.stat(f"{path}-shm")
    except OSError:
        return set()
    return _lock_holders(shm) | _lock_holders(shm)


def _foreign(pid: int, path: str) -> bool:
    """Whether process ``pid`` has the ``-shm`` beside ``path`` open, but not the file
    at ``path`` (or no file is there). Where its descriptors cannot be read (another
    user's process), its locks say which it has open: SQLite's on the ``-shm``, and the
    shared one it keeps on the database file it reads in WAL mode (a holder of a file
    moved away holds none on the one now at the path)."""
    try:
        shm = os.stat(f"{path}-shm")
    except OSError:
        return False
    try:
        file: os.stat_result | None = os.stat(path)
    except OSError:
        file = None  # no file here: any holder's is another
    if not _opened(pid, shm):
        return False
    return file is None or not _opened(pid, file)


def _opened(pid: int, file: os.stat_result) -> bool:
    """Whether process ``pid`` has ``file`` open, asked of its descriptors, or of its
    locks where those cannot be read."""
    opened = _has_open(pid, _key(file))
    if opened is None:
        return pid in _lock_holders(file) | _lock_holders(file)
    return opened


def _command(pid: int) -> str:
    """Process ``pid``'s command line, shortened, as ``ps`` shows it; "" where unreadable."""
    try:
        words = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return ""
    text = " ".join(" ".join(w.decode(errors="replace") for w in words if w).split())
    text = "".join(c if c.isprintable() else "?" for c in text)  # one plain line
    return text if len(text) <= 80 else text[:79] + "…"


def foreign_log_note(path: Path | str) -> str | None:
    """Why the file at ``path`` must not be opened now, where the ``-wal`` and ``-shm``
    beside it are another database's (:func:`foreign_log_holders`); None otherwise."""
    pids = foreign_log_holders(path)
    if not pids:
        return None
    many = len(pids) > 1
    who = "; ".join(f"{pid} ({cmd})" if (cmd := _command(pid)) else str(pid)
                    for pid in pids)
    return (f"the -wal and -shm at this path are held by process{'es' if many else ''} "
            f"{who}, which ha{'ve' if many else 's'} another database open under them (one "
            "renamed, moved or deleted from here while it was open: SQLite names them after "
            "the path), and SQLite would read them as this file's; nothing is opened or "
            f"written: run again once {'they have' if many else 'it has'} closed it (a "
            "wattwise dashboard does at its next request, or when stopped)")
