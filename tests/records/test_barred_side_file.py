"""A ``-shm`` or ``-wal`` this user may not read (another user's, mode 000)
makes SQLite say only "unable to open database file": the dashboard and ``wattwise
runs`` said that and nothing of the side file. Now they name it and what may be done.
(Root reads and writes any file: the user's view is had by ``os.access``.)"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import pytest

from tests.cli._hostile import add_run
from wattwise.records import database, db_paths
from wattwise.records.store import Store


def test_an_unreadable_shm_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "runs.db"
    add_run(path, "r0")
    with Store(path, readonly=True) as store:
        store.list_runs()  # its -shm made
        shm = f"{path}-shm"
        assert os.path.exists(shm)
        real = os.access
        monkeypatch.setattr(db_paths.os, "access",
                            lambda p, mode: False if str(p) == shm else real(p, mode))
        said = str(database._file_error(path, sqlite3.OperationalError(
            "unable to open database file")))
    assert said.startswith(f"run database {path}: cannot open: its -shm ({shm}, mode -rw")
    assert "may not be read by this user" in said and "chmod 644" in said, said
    monkeypatch.setattr(db_paths.os, "access", real)
    said = str(database._file_error(path, sqlite3.OperationalError(
        "unable to open database file")))
    assert said.endswith("cannot open: unable to open database file"), said
