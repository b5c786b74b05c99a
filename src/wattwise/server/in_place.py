"""Whether the dashboard's run database was rewritten in place: ``cp backup.db runs.db``
over the file it serves keeps the inode, so the file's identity says nothing, and SQLite
goes on reading its cached pages of the old file (the old runs for minutes, then
"database disk image is malformed" of a sound file).

In WAL mode only a checkpoint writes the file, and it marks the ``-shm`` (SQLite's WAL
index) as it does: a file whose size or modification time moved while the ``-shm``'s
checkpoint words did not was written by someone else. A ``-shm`` that was removed or
replaced is another WAL index than the one this process reads through: its connections
would never see a commit again; one that cannot be read tells no checkpoint, and a
move of the file is taken for a rewrite. A ``chmod`` moves no time this looks at; a
``touch`` does, and reads as a rewrite (nothing tells it from one: two small run databases can
share their size and header, whose change counter WAL mode does not move), so the file
is opened afresh, as after a ``cp``. Rollback mode has no ``-shm``: SQLite itself sees
the file's change counter move there.

The ``-shm``'s bytes are read by another process (``db_paths.first_bytes``): closing a
descriptor of it here would drop this process's SQLite locks. They are read only when
the file's size or mtime moved (a checkpoint, a rewrite), or the watch is made.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from wattwise.records.db_paths import first_bytes, side_file

#: How long a checkpoint seen half done (the file written, its ``-shm`` not yet marked)
#: is waited for before the file counts as rewritten, in 50 ms looks.
LOOKS = 4


class RewriteWatch:
    """The run database at ``path`` as last looked at: its size and modification time,
    its ``-shm``'s identity, and (read on a move only) the ``-shm``'s checkpoint words."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._marks = _marks(path)
        self._words = _checkpoint_words(path)

    def rewritten(self) -> bool:
        """Whether the file was rewritten in place, or its ``-shm`` removed or replaced,
        since the last look; what it holds now is the last look."""
        marks = _marks(self.path)
        if marks == self._marks:
            return False
        was_marks, was_words = self._marks, self._words
        self._marks, self._words = marks, _checkpoint_words(self.path)
        if was_marks is None or marks is None:
            return False  # no file then or now: the file's identity says so
        if was_marks[2] is not None and marks[2] != was_marks[2]:
            return True  # its -shm removed or replaced: another WAL index
        if self._words is None and marks[2] is not None:
            return True  # a -shm there that cannot be read: no checkpoint can be told
        if self._words is None or was_words is None:
            return False  # no -shm: rollback mode, or an immutable read
        for _ in range(LOOKS):
            if self._words != was_words:
                return False  # a checkpoint wrote it
            time.sleep(0.05)
            self._words = _checkpoint_words(self.path)
            self._marks = _marks(self.path)
        return self._words == was_words


def _marks(path: Path) -> tuple[int, int, tuple[int, int] | None] | None:
    """The file's size and modification time (ns), and its ``-shm``'s (device, inode) or
    None; None where the file cannot be stat'ed."""
    try:
        st = os.stat(path)
    except (OSError, ValueError):
        return None
    try:
        shm = os.stat(side_file(path, "-shm"))
        shm_id: tuple[int, int] | None = (shm.st_dev, shm.st_ino)
    except (OSError, ValueError):
        shm_id = None
    return st.st_size, st.st_mtime_ns, shm_id


def _checkpoint_words(path: Path) -> bytes | None:
    """What a checkpoint changes in the ``-shm``: its header (the log's frames and salts)
    and how far the log was copied into the file (``nBackfill``, ``nBackfillAttempted``);
    None where there is none or it cannot be read."""
    head = first_bytes(side_file(path, "-shm"), 136)
    return head[:48] + head[96:100] + head[128:132] if head else None
