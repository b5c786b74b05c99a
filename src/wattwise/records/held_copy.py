"""Whose a file is while another process holds it locked, judged from a copy.

A program in a write transaction whose cache spilled holds its file's exclusive lock:
no reader can see the file, so ``wattwise run`` could not tell a file of another
program from a wattwise database, ran the command, and lost its record at the end.
SQLite itself says what the file holds once committed, from a copy: the file taken
first, then its ``-journal`` (or ``-wal``), so every page the owner changed after the
file was read has its committed form in the side file read after it; the copy's own
open undoes (or replays) that side file as a crash would be. The side file's identity
(a journal's nonce, a WAL's salts) must be the same before and after, or the copy
could mix two transactions, and nothing is judged. The original is only read.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import tempfile
from collections.abc import Callable
from pathlib import Path

#: Beyond this many bytes (file and side file) no copy is made: the check waits.
COPY_LIMIT_BYTES = 64 * 1024 * 1024

# what was judged, by file and side-file identity: a writer polling a held file copies it
# once per transaction of its owner, not every poll
_JUDGED: dict[tuple[str, bytes], str | None] = {}


def _identity(side: Path, wal: bool) -> bytes | None:
    """The bytes naming the side file's transaction, b"" where there is none, or None
    where it cannot be read. A journal's header is its magic, a record count that grows
    as it is synced, then the nonce of its checksums; a WAL's first 32 bytes change only
    when it starts again."""
    try:
        with open(side, "rb") as f:
            head = f.read(32 if wal else 16)
    except FileNotFoundError:
        return b""
    except OSError:
        return None
    return head if wal else head[:8] + head[12:16]


def _copy(path: Path, side: Path, into: Path, wal: bool) -> bytes | None:
    """The file then its side file copied into ``into``; the side file's identity where
    it held one transaction throughout, else None."""
    before = _identity(side, wal)
    if before is None:
        return None
    try:
        shutil.copyfile(path, into / "held.db")
        if before:
            shutil.copyfile(side, into / ("held.db-wal" if wal else "held.db-journal"))
    except OSError:
        return None
    if _identity(side, wal) != before:
        return None
    return before


def judged_from_copy(path: Path, judge: Callable[[sqlite3.Connection], object]) -> str | None:
    """Why ``judge`` refuses the file at ``path`` as it stands committed, read from a
    copy, or None: it passes, or no copy could be judged (too large, changing, not
    SQLite to read), and the caller waits for the lock as before."""
    try:
        with open(path, "rb") as f:
            header = f.read(100)
        wal = len(header) > 19 and header[18] == 2 and header[19] == 2
        side = Path(f"{path}-wal" if wal else f"{path}-journal")
        stat = os.stat(path)
        size = stat.st_size + (os.stat(side).st_size if side.exists() else 0)
    except OSError:
        return None
    if size > COPY_LIMIT_BYTES:
        return None
    ident = _identity(side, wal)
    if ident is None:
        return None
    # no side file (a journal kept in memory): the file itself says what changed
    key = (str(Path(path).absolute()), ident or f"{stat.st_size}:{stat.st_mtime_ns}".encode())
    if key not in _JUDGED:
        try:
            copied, why = _judged(path, side, wal, ident, judge)
        except (OSError, sqlite3.Error):  # no room to copy, or the copy not SQLite's
            return None
        if not copied:
            return None
        _JUDGED[key] = why
    return _JUDGED[key]


def _judged(path: Path, side: Path, wal: bool, ident: bytes,
            judge: Callable[[sqlite3.Connection], object]) -> tuple[bool, str | None]:
    """Whether one transaction's state was copied, and why the copy is refused (None
    where it passes)."""
    from wattwise.errors import StoreError

    with tempfile.TemporaryDirectory(prefix="wattwise-held-") as tmp:
        if _copy(path, side, Path(tmp), wal) != ident:
            return False, None
        conn = sqlite3.connect(Path(tmp) / "held.db", timeout=0)
        try:
            judge(conn)  # its first read undoes the journal (replays the WAL) in the copy
        except StoreError as exc:
            text = str(exc).removesuffix("; left untouched")
            return True, (f"{text} (read from a copy: another process holds it locked); "
                          "left untouched")
        finally:
            conn.close()
    return True, None
