"""A file in rollback mode moved over a WAL database whose ``-wal`` a reader kept (another
user's dashboard, which reads without locking the ``-shm``): SQLite read that log as the
new file's. The old database was served, and the next run's write folded it into the
new file, whose own runs were gone. Every open now refuses it in one line."""

from __future__ import annotations

import os
import shutil
import sqlite3
from contextlib import closing
from pathlib import Path

import pytest

from tests.cli._hostile import add_run
from wattwise.errors import StoreError
from wattwise.records.store import Store


def _moved_over(tmp_path: Path) -> tuple[Path, bytes]:
    """``runs.db`` replaced by a rollback-mode copy beside the old file's ``-wal``."""
    db = tmp_path / "runs.db"
    add_run(db, "old")
    new = tmp_path / "new.db"
    shutil.copy(db, new)
    with closing(sqlite3.connect(new)) as conn:
        conn.execute("PRAGMA journal_mode=delete")
        conn.execute("UPDATE runs SET name = 'replaced'")
        conn.commit()
    reader = sqlite3.connect(db)  # a reader holding a snapshot keeps the -wal
    reader.execute("BEGIN")
    reader.execute("SELECT count(*) FROM runs").fetchone()
    add_run(db, "written while read")
    wal = Path(f"{db}-wal")
    assert wal.stat().st_size > 32
    os.replace(new, db)
    reader.close()  # closing the old file's handle: its -wal stays at the path
    if not wal.exists() or wal.stat().st_size <= 32:
        pytest.skip("this SQLite removed the old log as the reader closed")
    return db, db.read_bytes()


def test_a_file_moved_over_a_log_it_did_not_write_is_refused(tmp_path: Path) -> None:
    db, before = _moved_over(tmp_path)
    for readonly in (False, True):
        with pytest.raises(StoreError, match="is in rollback mode, so the -wal file beside"):
            Store(db, readonly=readonly).close()
    assert db.read_bytes() == before  # left untouched
    os.remove(f"{db}-wal")
    os.remove(f"{db}-shm")
    with Store(db, readonly=True) as store:  # its own runs, once the log is moved aside
        assert [r.name for r in store.list_runs(10)] == ["replaced"]
