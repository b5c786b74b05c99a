"""``server.in_place.RewriteWatch`` on its own: a ``-shm`` there that cannot be read
(another user's, mode 000) tells no checkpoint, so a move of the file is a rewrite; it
was taken for "no -shm" (rollback mode), and a backup copied over the file went unseen
(the old runs listed for the new file, then "damaged")."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from tests.cli._hostile import add_run
from wattwise.records.store import Store
from wattwise.server import in_place


def _served(tmp_path: Path) -> tuple[Path, Store]:
    live = tmp_path / "runs.db"
    add_run(live, "r0")
    store = Store(live, readonly=True)
    store.list_runs()  # its -shm made by a read
    assert os.path.exists(f"{live}-shm")
    return live, store


def test_a_shm_that_cannot_be_read_makes_a_move_a_rewrite(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    live, store = _served(tmp_path)
    try:
        watch = in_place.RewriteWatch(live)
        assert not watch.rewritten()
        monkeypatch.setattr(in_place, "_checkpoint_words", lambda path: None)  # unreadable
        backup = tmp_path / "backup.db"
        add_run(backup, "b1")
        add_run(backup, "b2")
        shutil.copyfile(backup, live)
        assert watch.rewritten()
    finally:
        store.close()


def test_no_move_and_no_shm_are_no_rewrite(tmp_path: Path) -> None:
    live, store = _served(tmp_path)
    try:
        watch = in_place.RewriteWatch(live)
        assert not watch.rewritten()
        os.chmod(live, 0o600)  # its change time alone
        assert not watch.rewritten()
    finally:
        store.close()
    rollback = tmp_path / "r.db"
    add_run(rollback, "r0")
    import sqlite3

    with sqlite3.connect(rollback) as conn:
        conn.execute("PRAGMA journal_mode=delete")
    conn.close()
    watch = in_place.RewriteWatch(rollback)
    add_run(rollback, "r1")  # a commit moves a rollback-mode file: SQLite sees it itself
    assert not os.path.exists(f"{rollback}-shm")
    assert not watch.rewritten()
