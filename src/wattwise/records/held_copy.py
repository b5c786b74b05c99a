"""Whose a file is while another process holds it locked, judged from a copy.

A program in a write transaction whose cache spilled holds its file's exclusive lock: no
reader can see the file, so ``wattwise run`` could not tell a file of another program
from a wattwise database, ran the command, and lost its record at the end. SQLite itself
says what the file holds once committed, from a copy: the file taken first, then its
``-journal`` (or ``-wal``), so every page the owner changed after the file was read has
its committed form in the side file read after it; the copy's own open undoes (or
replays) that side file as a crash would be. The side file's identity (a journal's
nonce, a WAL's salts) must be the same before and after, or the copy could mix two
transactions, and nothing is judged (frames a WAL gains meanwhile are a later commit, or
a part SQLite does not replay). A held file without its side file (a journal kept in
memory: the file may hold what is not committed), or with a journal that holds no
transaction (empty, or zeroed by another mode), is not judged; an empty WAL is nothing to
replay. The file is found as SQLite finds it, a link followed. The original is only
read.

A file that passed is copied again only after ``AGAIN_S`` or ten times that copy's
length, where longer (a busy owner starts a transaction at every poll of the writer); a
refusal is never kept: a later ask copies afresh (the owner may have mended it). A
command waits for the writer's first try, verdict included, before it starts
(``Store.wait_checked``): a copy slower than the first open's wait let it run and the file
was refused only at its end.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

#: Beyond this many bytes (file and side file) no copy is made: the check waits.
COPY_LIMIT_BYTES = 64 * 1024 * 1024
#: Seconds before a file that passed is copied again (or ten times that copy's length).
AGAIN_S = 2.0
_PREFIX = "wattwise-held-"

# per file: when a copy of it last passed, and how long that copy took
_PASSED: dict[str, tuple[float, float]] = {}


#: The first bytes of a rollback journal that holds a transaction.
_JOURNAL_MAGIC = bytes.fromhex("d9d505f920a163d7")
#: The identity of an empty WAL: nothing to replay, the file alone is what is committed.
_EMPTY_WAL = b"empty"


def _identity(side: Path, wal: bool) -> bytes | None:
    """The bytes naming the side file's transaction, b"" where it holds none, or None
    where it cannot be read. A journal's header is its magic, a record count that grows
    as it is synced, then the nonce of its checksums; a WAL's first 32 bytes change only
    when it starts again. An empty WAL is ``_EMPTY_WAL`` (in WAL mode no page that is
    not committed reaches the file). A journal that is empty, or zeroed (kept by another
    mode), holds none: the owner may keep its journal in memory, its pages not committed
    in the file."""
    try:
        with open(side, "rb") as f:
            head = f.read(32 if wal else 16)
    except FileNotFoundError:
        return b""
    except OSError:
        return None
    if wal:
        return head or _EMPTY_WAL
    return head[:8] + head[12:16] if head[:8] == _JOURNAL_MAGIC else b""


def _copy(path: Path, side: Path, into: Path, wal: bool, ident: bytes) -> bool:
    """The file then its side file copied into ``into``; whether the side file still
    holds the transaction ``ident`` names (read before the copy) once both are copied."""
    try:
        shutil.copyfile(path, into / "held.db")
        if ident != _EMPTY_WAL:
            shutil.copyfile(side, into / ("held.db-wal" if wal else "held.db-journal"))
    except OSError:
        return False
    return _identity(side, wal) == ident


def judged_from_copy(path: Path, judge: Callable[[sqlite3.Connection], object]) -> str | None:
    """Why ``judge`` refuses the file at ``path`` as it stands committed, read from a
    copy, or None: it passes, or no copy could be judged (too large, changing, no side
    file, not SQLite to read), and the caller waits for the lock as before."""
    real = os.path.realpath(path)  # SQLite's side files lie beside the link's target
    passed = _PASSED.get(real)
    if passed is not None and time.monotonic() - passed[0] < max(AGAIN_S, 10 * passed[1]):
        return None
    try:
        with open(real, "rb") as f:
            header = f.read(100)
        wal = len(header) > 19 and header[18] == 2 and header[19] == 2
        side = Path(f"{real}-wal" if wal else f"{real}-journal")
        size = os.stat(real).st_size + os.stat(side).st_size
    except OSError:  # no side file: what the file holds committed cannot be known
        return None
    ident = _identity(side, wal)
    if size > COPY_LIMIT_BYTES or not ident:
        return None
    began = time.monotonic()
    try:
        copied, why = _judged(Path(real), side, wal, ident, judge)
    except (OSError, sqlite3.Error):  # no room to copy, or the copy not SQLite's
        return None
    if copied and why is None:
        _PASSED[real] = (time.monotonic(), time.monotonic() - began)
    return why if copied else None


def _judged(path: Path, side: Path, wal: bool, ident: bytes,
            judge: Callable[[sqlite3.Connection], object]) -> tuple[bool, str | None]:
    """Whether one transaction's state was copied, and why the copy is refused (None
    where it passes)."""
    from wattwise.errors import StoreError

    _sweep()
    with tempfile.TemporaryDirectory(prefix=f"{_PREFIX}{os.getpid()}-") as tmp:
        if not _copy(path, side, Path(tmp), wal, ident):
            return False, None
        conn = sqlite3.connect(Path(tmp) / "held.db", timeout=0)
        try:
            judge(conn)  # its first read undoes the journal (replays the WAL) in the copy
        except StoreError as exc:
            text = str(exc)
            kept = text.endswith("; left untouched")
            return True, (f"{text.removesuffix('; left untouched')} (read from a copy: "
                          "another process holds it locked)"
                          + ("; left untouched" if kept else ""))
        finally:
            conn.close()
    return True, None


def _sweep() -> None:
    """Remove the copies a process left as it died (killed, or ended while its writer
    thread copied): they may hold another program's data."""
    for old in Path(tempfile.gettempdir()).glob(f"{_PREFIX}*-*"):
        try:
            pid = int(old.name[len(_PREFIX):].split("-", 1)[0])
            if old.stat().st_uid != os.getuid() or pid == os.getpid():
                continue
            os.kill(pid, 0)
        except ProcessLookupError:
            shutil.rmtree(old, ignore_errors=True)
        except (ValueError, OSError):
            continue
