"""A database is read as unchanging only where nobody can be writing it and SQLite can
make no ``-shm``: no ``-wal``, no ``-journal``, a folder this user may not write. A hot
``-journal`` read past (immutable reads ignore it) would give a half-written file."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from wattwise.records import immutable_read


def test_a_folder_this_user_may_write_is_never_read_immutable(tmp_path: Path) -> None:
    db = tmp_path / "runs.db"
    db.write_bytes(b"")
    assert not immutable_read.may_read_immutable(db)


@pytest.mark.parametrize("side", ["", "-wal"])
def test_a_side_file_beside_it_says_someone_writes_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, side: str
) -> None:
    db = tmp_path / "runs.db"
    db.write_bytes(b"")
    if side:
        (tmp_path / f"runs.db{side}").symlink_to(tmp_path / "gone")  # even dangling
    monkeypatch.setattr(immutable_read.os, "access", lambda path, mode: False)
    assert immutable_read.may_read_immutable(db) is (side == "")


@pytest.mark.parametrize("journal,hot", [(b"\xd9\xd5\x05\xf9", True), (b"", False),
                                         (b"\0" * 512, False), (None, False)])
def test_only_a_hot_journal_says_someone_writes_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, journal: bytes | None, hot: bool
) -> None:
    """As SQLite judges one: not empty, its first byte not 0 (an empty or zeroed one, or
    a link to none, holds no write, and locked a reader out for good)."""
    db = tmp_path / "runs.db"
    db.write_bytes(b"")
    side = tmp_path / "runs.db-journal"
    if journal is None:
        side.symlink_to(tmp_path / "gone")
    else:
        side.write_bytes(journal)
    monkeypatch.setattr(immutable_read.os, "access", lambda path, mode: False)
    assert immutable_read.hot_journal(db) is hot
    assert immutable_read.may_read_immutable(db) is not hot


def test_marks_change_with_a_write_a_replacement_and_a_side_file(tmp_path: Path) -> None:
    db = tmp_path / "runs.db"
    db.write_bytes(b"a")
    first = immutable_read.marks(db)
    assert first is not None and immutable_read.marks(db) == first
    (tmp_path / "runs.db-journal").write_bytes(b"")
    assert immutable_read.marks(db) != first
    os.remove(tmp_path / "runs.db-journal")
    assert immutable_read.marks(db) == first
    other = tmp_path / "other.db"
    other.write_bytes(b"a")
    os.replace(other, db)  # same size, another inode
    assert immutable_read.marks(db) != first
    os.remove(db)
    assert immutable_read.marks(db) is None
