"""When a run database is read as a file that does not change (SQLite's ``immutable=1``).

Why: in WAL mode SQLite reads through a ``-shm`` file it makes beside the database. A
user who may not write the folder (a dashboard run as another user) cannot make one, so
the file is opened ``immutable``: no locks, no side files, and SQLite never looks at it
again. That is safe only while nobody writes it, and only the file at the path itself
says so. ``may_read_immutable`` is the one test every such open uses (the dashboard's
reads, ``damaged_file``'s check again); ``marks`` is what an immutable reader compares
to see that the file changed under it and must be opened anew.

``damaged_file._state`` is its neighbour: it keeps the file's identity apart from its
state, and a ``-wal``'s size, for the files found damaged.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any


def may_read_immutable(path: Path) -> bool:
    """No ``-wal`` and no hot ``-journal`` beside the file (nobody is writing it, and no
    log waits to be read with it) and a folder this user may not write (so SQLite can
    make no ``-shm``). Side files are where SQLite makes them: beside a link's target."""
    path = Path(os.path.realpath(path))
    if os.path.lexists(f"{path}-wal") or hot_journal(path):
        return False
    return not os.access(path.parent, os.W_OK)


def hot_journal(path: Path) -> bool:
    """Whether a ``-journal`` beside the file may hold a write that was cut short, as
    SQLite judges one hot: there and not empty, its first byte not 0 (an empty one, or
    one whose header a ``journal_mode=persist`` writer zeroed, holds none, and SQLite
    leaves it beside a WAL-mode file: a reader that could not write the folder was
    refused for good, told to undo a write there never was). One that cannot be read
    counts as hot. Read here: the ``-journal`` is no file SQLite locks."""
    journal = f"{os.path.realpath(path)}-journal"
    try:
        if os.stat(journal).st_size == 0:
            return False
        with open(journal, "rb") as f:
            return f.read(1) != b"\x00"
    except FileNotFoundError:
        return False
    except OSError:
        return True


def marks(path: Path) -> tuple[Any, ...] | None:
    """What changes when a database is written, replaced or given a ``-wal`` or
    ``-journal``: its inode, size and times, and which side files are there (None where
    the file cannot be stat'ed)."""
    path = Path(os.path.realpath(path))
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns,
            os.path.lexists(f"{path}-wal"), os.path.lexists(f"{path}-journal"))
