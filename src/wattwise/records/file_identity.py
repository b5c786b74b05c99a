"""Whether the run database a process writes to is still the file at its path.

SQLite keeps writing to an open file after it is deleted (or replaced: a copy moved
over it, a backup restored), and every row then goes to a file no one can open: the
run was reported stored ("(run 2), exit code 0") and no database was left. Its
identity (device and inode) is taken when the writer opens it, and compared when the
run ends, so that case is said.
"""

from __future__ import annotations

import os
from pathlib import Path

Identity = tuple[int, int]


def identity(path: Path) -> Identity | None:
    """The file at ``path`` as (device, inode), or None where none can be read."""
    try:
        st = os.stat(path)
    except (OSError, ValueError):
        return None
    return st.st_dev, st.st_ino


def moved_since(path: Path, then: Identity | None) -> str | None:
    """How the file at ``path`` is no longer the one taken as ``then``: "deleted",
    "replaced by another file", or None (the same, or nothing to compare)."""
    if then is None:
        return None
    try:
        os.stat(path)
    except FileNotFoundError:
        return "deleted"
    except (OSError, ValueError):
        return None
    now = identity(path)
    return None if now is None or now == then else "replaced by another file"
