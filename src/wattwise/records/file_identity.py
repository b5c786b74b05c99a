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
from pathlib import Path


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

    def close(self) -> None:
        if self._folder is not None:
            with contextlib.suppress(OSError):
                os.close(self._folder)
            self._folder = None
