"""Connections left open for good where closing them would remove a user's file.

SQLite's last connection to a WAL database removes its ``-wal`` and ``-shm`` by name as
it closes, whatever sits at those names by then: a FIFO, folder or device a user put
there (which every wattwise reader refuses, and says it leaves untouched) was removed by
a dashboard's stop and by the end of ``wattwise run``. Where a side file is no regular
file, the connections are kept, with one more reference that no object holds, past the
interpreter's end (Python would close them as it finalizes); the process's exit closes
their descriptors, which removes nothing.
"""

from __future__ import annotations

import ctypes
from pathlib import Path

from wattwise.errors import StoreError
from wattwise.records.db_paths import odd_side_file


def odd_beside(path: Path | None) -> bool:
    """Whether a ``-journal``, ``-wal`` or ``-shm`` beside ``path`` is no regular file."""
    if path is None:
        return False
    try:
        odd_side_file(path)
    except StoreError:
        return True
    return False


def keep_open(*held: object) -> None:
    """Keep ``held`` (connections, or what holds them) alive past the interpreter's end."""
    for obj in held:
        if obj is not None:
            ctypes.pythonapi.Py_IncRef(ctypes.py_object(obj))
