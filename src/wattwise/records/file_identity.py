"""Whether the run database a writer writes is still the file at its name.

SQLite goes on writing to a file it has open after the file is deleted or another is
moved over its name, but it names its ``-wal`` and ``-shm`` files after that name: the
run's rows then go to a file no one can open, or into a ``-wal`` the file now at that
name reads as its own (a database moved over a recording one came out damaged, its runs
gone). The writer holds the file's folder open, tells the cases apart before each
commit (the file under its name in that folder, and at its path), and writes nothing
more once the file is no longer under its name; a file only moved with its folder
keeps its rows, and is said too.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import time
from pathlib import Path

#: How long a writer whose file left its name waits for readers of it to let its
#: ``-wal`` be folded in, seconds: a reader's snapshot keeps frames from being folded.
#: Short: the log is then moved beside the file, as good for it, and a writer that
#: waits when its program exits (a daemon thread) is cut off with the log at the path.
FOLD_PATIENCE_S = 0.25


def identity(path: Path) -> tuple[int, int] | None:
    """The file at ``path`` as (device, inode), or None where none can be read."""
    try:
        st = os.stat(path)
    except (OSError, ValueError):
        return None
    return st.st_dev, st.st_ino


class FileWatch:
    """A run database file watched through its folder, held open: the file itself never
    is (closing any descriptor of it would drop SQLite's locks). Its path is resolved
    first, as SQLite resolves a link to name its ``-wal``."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._real = Path(os.path.realpath(path))
        self._folder: int | None = None
        self._ident: tuple[int, int] | None = None
        self._why: str | None = None
        flags = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_CLOEXEC", 0)
        with contextlib.suppress(OSError, ValueError, NotImplementedError):
            self._folder = os.open(self._real.parent, flags)
            st = os.stat(self._real.name, dir_fd=self._folder)
            self._ident = (st.st_dev, st.st_ino)
        if self._ident is None:
            self.close()

    def gone(self) -> str | None:
        """Why nothing more may be written: "renamed to NAME" (in its folder), "deleted or
        moved out of its folder" (the two cannot be told apart without a descriptor of the
        file), or "replaced by another file" (its ``-wal`` would be read as that file's);
        None while it is at its name, or only moved with its folder (:meth:`moved`). Once
        said, said again."""
        if self._why is not None or self._folder is None:
            return self._why
        try:
            st = os.stat(self._real.name, dir_fd=self._folder)
        except FileNotFoundError:
            st = None
        except OSError:
            return None
        if st is None or (st.st_dev, st.st_ino) != self._ident:
            renamed = self._renamed_to()
            self._why = f"renamed to {renamed}" if renamed is not None \
                else "deleted or moved out of its folder" if st is None \
                else "replaced by another file"
        return self._why

    def _renamed_to(self) -> str | None:
        """The name the file has now in its folder, if it is still there."""
        with contextlib.suppress(OSError), os.scandir(self._folder) as entries:  # type: ignore[type-var]
            for entry in entries:
                st = entry.stat(follow_symlinks=False)
                if (st.st_dev, st.st_ino) == self._ident:
                    return entry.name
        return None

    def moved(self) -> bool:
        """Whether the file is still in its folder under its name but the path no longer
        leads there (the folder renamed or moved): its rows are kept, in the moved file."""
        return self._folder is not None and self.gone() is None \
            and identity(self._real) != self._ident

    @property
    def resolved(self) -> Path:
        """The path as SQLite names its side files after it (a link followed)."""
        return self._real

    def now_at(self) -> tuple[bool, Path | None]:
        """Where the file is now, read from this process's descriptors of it (Linux's
        ``/proc/self/fd``, SQLite's own): ``(True, path)``, ``(True, None)`` where it was
        deleted, ``(False, None)`` where it cannot be told."""
        if self._ident is None:
            return False, None
        with contextlib.suppress(OSError):
            for name in os.listdir("/proc/self/fd"):
                link = f"/proc/self/fd/{name}"
                with contextlib.suppress(OSError):
                    st = os.stat(link)
                    if (st.st_dev, st.st_ino) != self._ident:
                        continue
                    if st.st_nlink == 0:
                        return True, None
                    where = Path(os.readlink(link))
                    if identity(where) == self._ident:
                        return True, where
        return False, None

    def close(self) -> None:
        if self._folder is not None:
            with contextlib.suppress(OSError):
                os.close(self._folder)
            self._folder = None


def fold_wal(conn: sqlite3.Connection, patience_s: float = 0.0) -> bool:
    """Fold the ``-wal`` into the file and empty it; True once it is empty. A reader's
    snapshot keeps frames from being folded (SQLite answers busy, without an error):
    tried again for up to ``patience_s``."""
    deadline = time.monotonic() + patience_s
    while True:
        try:
            row = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        except sqlite3.Error:
            return False
        # no frame left: even where a reader keeps it from being reset, nothing is in it;
        # -1 is no -wal only where it was not busy (else: another checkpoint ran)
        if row is not None and (row[1] == 0 or (row[0] == 0 and row[1] == -1)):
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.05)


def leave_path(conn: sqlite3.Connection, watch: FileWatch) -> str:
    """The ``-wal`` and ``-shm`` named after the path, of a file no longer there, out of
    the way of the file that comes there next (which would read the frames as its own
    and come out damaged): folded into the file, else moved beside it where it is now,
    else removed with it (deleted), else moved aside (``a.db-wal.left-by-PID``: where the
    file is cannot be told, or a ``-wal`` is beside it already). The connection is
    closed; what became of the file and its rows, in words for the warning."""
    folded = fold_wal(conn, FOLD_PATIENCE_S)
    found, where = watch.now_at()  # while SQLite has it open
    with contextlib.suppress(sqlite3.Error):
        conn.close()
    gone = watch.gone() or ""
    more = "nothing more is written to it"
    kept = f"it keeps what was written; {more}" if gone.startswith("renamed") or where \
        else f"{more}, and the file there now is left as it is" if gone.startswith("replaced") \
        else f"what was written is lost with it (a move to another filesystem copies a file, " \
        f"then deletes it); {more}" if found \
        else f"{more} (what was is lost if it was deleted, kept in it if it was moved)"
    if where is not None and not gone.startswith("renamed"):
        kept = kept.replace("what was written;", f"what was written, at {where};", 1)
    suffixes = ("-wal", "-shm")
    side = [Path(f"{watch.resolved}{s}") for s in suffixes]
    if not any(f.exists() for f in side):
        # taken off the path by another process that wrote the file: its warning says where
        return kept if folded else kept.replace(
            "keeps what was written", "keeps what was written up to the rows a reader held "
            "in its -wal, which another process writing it took off the path", 1)
    # the side files out of the path's way whatever they hold: a reader of the file
    # that left keeps them open, and one found at the path refuses every later open
    with contextlib.suppress(OSError):
        if where is not None and not any(Path(f"{where}{s}").exists() for s in suffixes):
            for f, s in zip(side, suffixes, strict=True):
                if f.exists():
                    os.rename(f, f"{where}{s}")
            return kept if folded else \
                f"{kept}; its last rows are in its -wal, moved beside it ({where.name}-wal)"
        if folded or (found and where is None):  # nothing in them, or their file deleted
            for f in side:
                f.unlink(missing_ok=True)
            return kept if folded else \
                f"{kept}; its -wal, held by a reader, was removed from the path"
    kept = kept.replace("keeps what was written", "keeps what was written up to the rows "
                        "a reader held in its -wal", 1)
    aside = f".left-by-{os.getpid()}"
    try:
        for f in side:
            if f.exists():
                os.replace(f, f"{f}{aside}")
    except OSError as exc:
        return (f"{kept}; its -wal, held by a reader, is still at the path ({exc}): move "
                f"{side[0].name} and {side[1].name} away before anything opens the path, "
                "which would read them as its file's")
    return (f"{kept}; those rows are in its -wal, moved aside ({side[0].name}{aside}), "
            "which SQLite reads only under the file's name with -wal")
