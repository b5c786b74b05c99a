"""What a run database's path may be, checked with ``stat`` alone, before SQLite opens it:
SQLite takes some names as no file, and opening some files changes what lies beside
them."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

from wattwise.errors import StoreError
from wattwise.records.foreign_log import foreign_log_note


def not_a_file_name(text: str) -> str | None:
    """Why SQLite would not take ``text`` as a file's name, or None: ``:memory:`` is a
    database that vanishes at exit, and a name starting ``file:`` is read as a URI
    (``?mode=memory`` and the like), even when opened without ``uri=True``."""
    if text == ":memory:":
        return "':memory:' is SQLite's in-memory database, which keeps nothing; name a file"
    if text[:5].lower() == "file:":
        return ("a name starting 'file:' is read by SQLite as a URI, not a file name; "
                "give the file's absolute path if that is its name")
    return None


def check_path(path: Path, *, must_exist: bool = False) -> None:
    """Refuse what SQLite should never be pointed at, using ``stat`` only (no open)."""
    why = not_a_file_name(str(path))
    if why is not None:
        raise StoreError(f"run database {path}: {why}")
    try:
        st = os.stat(path)
    except FileNotFoundError:
        if must_exist:
            raise StoreError(f"no run database at {path} (nothing recorded there yet)") from None
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"run database {path}: cannot create its folder: {exc}") from exc
        _not_anothers_log(path)
        return
    except OSError as exc:
        raise StoreError(f"run database {path}: cannot open: {exc}") from exc
    if stat.S_ISDIR(st.st_mode):
        raise StoreError(f"run database {path} is a directory, not a file")
    if not stat.S_ISREG(st.st_mode):
        raise StoreError(f"run database {path} is not a regular file (a FIFO or device?)")
    odd_side_file(path)
    if st.st_size == 0 and _size(Path(side_file(path, "-wal"))) > 0:
        # SQLite deletes a -wal beside an empty file as it opens it, read-only too; a
        # wattwise database in WAL mode is never empty (its header is in the file)
        raise StoreError(f"run database {path} is empty but a -wal file of another "
                         "database lies beside it; left untouched")
    mispaired_log(path)
    _not_anothers_log(path)


def mispaired_log(path: Path) -> None:
    """Refuse a file in rollback mode (its header's bytes 18-19 are 1) with a ``-wal``
    that holds frames beside it: a database in rollback mode writes no ``-wal``, so that
    log is another file's, kept after a file was moved over it (by a reader that held
    the old file, which no check of the ``-shm``'s locks sees where it reads without
    locking it: another user's dashboard). SQLite reads such a log as the file's: the
    old database was served, and the next write folded it into the new file, whose own
    runs were gone. The path is resolved as SQLite resolves it (a link's target names
    the side files); the ``-wal`` is looked at again once the header is read (a file
    switched from WAL to rollback mode deletes its ``-wal`` before it writes its header:
    both were true, at two moments), and one that cannot be read is refused too."""
    real = os.path.realpath(path)
    before = _wal(real)
    if before is None:
        return
    if _size(Path(real)) == 0:  # SQLite deletes it as it opens the file: not its own
        raise StoreError(f"run database {path} is empty but a -wal file of another "
                         "database lies beside it; left untouched")
    head = _header(Path(real))
    if head[:16] == b"SQLite format 3\x00" and head[18:20] != b"\x01\x01":
        return  # in WAL mode: the log may be its own
    if _wal(real) != before:
        return  # the log went (or another came) as the header was read
    if head[:16] == b"SQLite format 3\x00" or not head:
        raise StoreError(
            f"run database {path} is in rollback mode, so the -wal file beside it is "
            "another database's log (kept by a reader of the file this one was moved "
            "over); left untouched: stop the programs reading it, then move the -wal "
            "aside (it is not this file's), or put back the file it belongs to"
            if head else
            f"run database {path}: a -wal file holding frames lies beside it and the file's "
            "header could not be read to tell whether the log is its own; left untouched")


def _wal(path: str) -> tuple[int, int, int] | None:
    """The ``-wal`` beside ``path``: its device, inode and size where it holds a frame
    (more than its 32-byte header), else None."""
    try:
        st = os.stat(f"{path}-wal")
    except OSError:
        return None
    # (a folder of that name is no log: SQLite cannot open the file beside it either)
    return (st.st_dev, st.st_ino, st.st_size) if stat.S_ISREG(st.st_mode) \
        and st.st_size > 32 else None


def _not_anothers_log(path: Path) -> None:
    """Refuse a path whose ``-wal`` and ``-shm`` another process holds for a database no
    longer at it: SQLite would read that log as the file's (a database moved in came out
    damaged, or said to be another program's) and could change it (an open there once
    cost the renamed database its last rows)."""
    note = foreign_log_note(path)
    if note is not None:
        raise StoreError(f"run database {path}: {note}")


def writable(path: Path) -> None:
    """Before a writer opens the file at ``path``: one this user may not write is refused
    in one line (SQLite opens it read-only without a word, and the run it was to record
    would be lost at its first write); a ``-wal`` or ``-shm`` beside it this user may not
    write, which a read of the file leaves while the file is read-only (SQLite gives its
    side files the file's mode, and keeps them after a read-only connection), is given
    the file's mode where this user owns it: every write fails with "attempt to write a
    readonly database" while it stays so. Its content is not touched."""
    try:
        st = os.stat(path)
    except OSError:
        return  # no file yet: it is made with this user's mode
    if st.st_size > 0 and not os.access(path, os.W_OK):
        raise StoreError(f"run database {path} is read-only for this user "
                         f"(mode {stat.filemode(st.st_mode)}): nothing can be recorded in "
                         "it; left untouched")
    fixable: list[tuple[str, int]] = []
    for suffix in ("-wal", "-shm"):
        side = Path(side_file(path, suffix))
        try:
            side_st = os.stat(side)
        except OSError:
            continue
        if not stat.S_ISREG(side_st.st_mode) or os.access(side, os.W_OK):
            continue
        if not hasattr(os, "geteuid") or side_st.st_uid != os.geteuid():
            raise StoreError(  # before any is changed: nothing changed where refused
                f"run database {path}: its {suffix} file is read-only for this user (left "
                "by a read while the file was read-only?): make it writable, or remove it "
                "when no program has the file open; left untouched")
        fixable.append((suffix, stat.S_IMODE(side_st.st_mode) | stat.S_IMODE(st.st_mode)))
    for suffix, mode in fixable:
        try:
            os.chmod(side_file(path, suffix), mode)
        except OSError as exc:
            raise StoreError(f"run database {path}: its {suffix} file "
                             f"is read-only for this user and cannot be made writable "
                             f"({exc})") from exc


def odd_side_file(path: Path) -> None:
    """Refuse a ``-journal``, ``-wal`` or ``-shm`` beside the file that is not a regular
    file: SQLite opens one as it reads, and the open of a FIFO waits for a writer for
    good (every reader hung, a serving dashboard's threads with them, deaf to Ctrl-C).
    Three ``stat`` calls: made before every open and every read of a reader."""
    for suffix in ("-journal", "-wal", "-shm"):
        try:
            mode = os.stat(side_file(path, suffix)).st_mode
        except (OSError, ValueError):
            continue
        if not stat.S_ISREG(mode):
            raise StoreError(f"run database {path}: its {suffix} is not a regular file (a "
                             "FIFO, a folder or a device), which SQLite would open as its "
                             "log and wait on or fail; left untouched: remove it")


def barred_side_file(path: Path | str) -> str | None:
    """Why SQLite could not open the database, where a ``-shm`` or ``-wal`` beside it
    is one this user may not read (another user's, mode 000): SQLite says only "unable to
    open database file"; None where none is."""
    for suffix in ("-shm", "-wal"):
        side = side_file(path, suffix)
        try:
            mode = os.stat(side).st_mode
        except (OSError, ValueError):
            continue
        if stat.S_ISREG(mode) and not os.access(side, os.R_OK):
            return (f"its {suffix} ({side}, mode {stat.filemode(mode)}) may not be read by "
                    "this user: its owner may make it readable (chmod 644), or remove it "
                    "while nothing reads or records the database")
    return None


def lost_log(path: Path | str) -> str | None:
    """Why SQLite said "disk I/O error" opening the database, where its ``-wal`` holds
    less than its WAL index (the ``-shm``, read by another process) says it does: the
    ``-wal`` was removed or replaced while a process wrote the file, whose commits go to
    a log no name points to any more (SQLite's words suggested a failing disk); None
    where that is not so. The index's header: its page size at byte 14 and its last
    frame at byte 16, in this machine's byte order."""
    shm, wal = side_file(path, "-shm"), side_file(path, "-wal")
    head = first_bytes(shm, 48)
    if len(head) < 48:
        return None
    page = int.from_bytes(head[14:16], sys.byteorder)
    frames = int.from_bytes(head[16:20], sys.byteorder)
    page = 65536 if page == 1 else page
    try:
        size = os.stat(wal).st_size
    except FileNotFoundError:
        size = 0
    except (OSError, ValueError):
        return None
    if not page or not frames or size >= 32 + frames * (page + 24):
        return None
    return (f"its log {wal} holds {size} bytes where its index ({shm}) counts {frames} "
            "page(s) in it: the -wal was removed or replaced while a process wrote the "
            "file, and that process's commits are in a log no name points to; the file "
            "reads again once that process has ended (its close folds them into the file;"
            " killed, it loses them)")


def open_fault(path: Path | str, said: str) -> str | None:
    """What a side file did to an open SQLite refused with ``said`` ("unable to open
    database file": ``barred_side_file``; "disk I/O error": ``lost_log``), or None."""
    if "unable to open database file" in said:
        return barred_side_file(path)
    return lost_log(path) if "disk I/O error" in said else None


def side_file(path: Path | str, suffix: str) -> str:
    """The side file (``-wal``, ``-shm``, ``-journal``) SQLite uses for the database at
    ``path``: named after a link's target, not the link (a look beside the link found
    none, or another's)."""
    return f"{os.path.realpath(path)}{suffix}"


def _header(path: Path) -> bytes:
    """The first 20 bytes of the file (:func:`first_bytes`): b"" where they cannot be
    read, or what was read is not 20 bytes (a header is)."""
    return first_bytes(path, 20)


def first_bytes(path: Path | str, count: int) -> bytes:
    """The first ``count`` bytes of a regular file, read by another process (the system's
    ``head``, never another of that name on PATH, else this Python): closing any
    descriptor of a file drops every SQLite lock this process holds on it, whichever
    thread took them (a ``-shm`` holds a reader's); b"" where they cannot be read, it is
    no regular file (a FIFO would hold the read), or fewer were there."""
    try:
        if not stat.S_ISREG(os.stat(path).st_mode):
            return b""
    except (OSError, ValueError):
        return b""
    head = shutil.which("head", path="/usr/bin:/bin")
    argv = [head, "-c", str(count), "--", str(path)] if head else [
        sys.executable, "-I", "-S", "-c", "import sys; sys.stdout.buffer.write("
        f"open(sys.argv[1], 'rb').read({count}))", str(path)]
    try:
        done = subprocess.run(argv, capture_output=True, timeout=10, check=False)
    except (OSError, subprocess.SubprocessError):
        return b""
    return done.stdout if done.returncode == 0 and len(done.stdout) == count else b""


def _size(path: Path) -> int:
    try:
        return os.stat(path).st_size
    except OSError:
        return 0
