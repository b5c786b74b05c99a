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
from wattwise.records import db_paths
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


def test_through_a_link_it_is_refused_and_the_target_left_untouched(tmp_path: Path) -> None:
    """SQLite names the side files after a link's target: the check looked beside the
    link, and a read through it folded the other file's log into the target."""
    db, before = _moved_over(tmp_path)
    links = tmp_path / "links"
    links.mkdir()
    (links / "link.db").symlink_to(db)
    for readonly in (False, True):
        with pytest.raises(StoreError, match="is in rollback mode"):
            Store(links / "link.db", readonly=readonly).close()
    assert db.read_bytes() == before


def test_where_head_cannot_be_found_the_header_is_still_read(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """With no ``head`` on PATH the check let every such file through."""
    db, before = _moved_over(tmp_path)
    monkeypatch.setenv("PATH", "/nonexistent")
    monkeypatch.setattr(db_paths.shutil, "which", lambda *a, **k: None)
    with pytest.raises(StoreError, match="is in rollback mode"):
        Store(db, readonly=True).close()
    assert db.read_bytes() == before


def test_a_log_gone_as_the_header_was_read_is_no_refusal(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A file switched from WAL to rollback mode deletes its -wal, then writes its
    header: a check between the two saw both, and refused a sound database."""
    db = tmp_path / "runs.db"
    add_run(db)
    wal = Path(f"{db}-wal")
    wal.write_bytes(b"x" * 4096)  # a log with frames, as the switch begins

    def header_after_the_switch(path: Path) -> bytes:
        wal.unlink()  # the switch deletes its log, then writes its header
        return b"SQLite format 3\x00" + b"\x10\x00\x01\x01"

    monkeypatch.setattr(db_paths, "_header", header_after_the_switch)
    db_paths.mispaired_log(db)  # no refusal


def _fake_head(folder: Path, body: str) -> str:
    """A folder holding a program named ``head`` (a project's own script, a wrapper)."""
    folder.mkdir()
    head = folder / "head"
    head.write_text(f"#!/bin/sh\n{body}\n")
    head.chmod(0o755)
    return f"{folder}{os.pathsep}{os.environ.get('PATH', '')}"


def test_another_head_on_path_is_not_asked(tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """The first ``head`` on PATH read the header: one that printed other text let the
    other database's log through (served, then folded in), one that failed refused a
    sound database."""
    db, before = _moved_over(tmp_path)
    monkeypatch.setenv("PATH", _fake_head(tmp_path / "lying", "echo '200 OK'"))
    with pytest.raises(StoreError, match="is in rollback mode"):
        Store(db, readonly=True).close()
    assert db.read_bytes() == before
    sound = tmp_path / "sound.db"
    add_run(sound)
    Path(f"{sound}-wal").write_bytes(Path(f"{db}-wal").read_bytes()[:4096])
    monkeypatch.setenv("PATH", _fake_head(tmp_path / "failing", "exit 1"))
    assert db_paths._header(sound)[:16] == b"SQLite format 3\x00"


def test_a_header_read_short_is_not_read(tmp_path: Path,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    db, before = _moved_over(tmp_path)
    real = db_paths.subprocess.run

    def short(argv: list[str], **kw: object) -> object:
        done = real(argv, **kw)  # type: ignore[arg-type]
        done.stdout = done.stdout[:10]
        return done

    monkeypatch.setattr(db_paths.subprocess, "run", short)
    assert db_paths._header(db) == b""
    with pytest.raises(StoreError, match="header could not be read"):
        Store(db, readonly=True).close()
    assert db.read_bytes() == before


def test_an_empty_file_through_a_link_is_judged_beside_its_target(tmp_path: Path) -> None:
    """The check looked beside the link: a -wal there (which SQLite never reads) refused
    an empty file, and one beside the target was refused for a header "not read"."""
    db, _ = _moved_over(tmp_path)
    log = Path(f"{db}-wal").read_bytes()
    links = tmp_path / "links"
    links.mkdir()
    empty = tmp_path / "empty.db"
    empty.touch()
    (links / "link.db").symlink_to(empty)
    Path(f"{links / 'link.db'}-wal").write_bytes(log)  # beside the link only
    Store(links / "link.db").close()  # made a database: SQLite never read that log
    other = tmp_path / "other.db"
    other.touch()
    (links / "other.db").symlink_to(other)
    Path(f"{other}-wal").write_bytes(log)  # beside the target
    for readonly in (False, True):
        with pytest.raises(StoreError, match="is empty but a -wal file of another"):
            Store(links / "other.db", readonly=readonly).close()
    assert Path(f"{other}-wal").read_bytes() == log and other.stat().st_size == 0


def test_a_folder_named_like_a_log_is_no_log(tmp_path: Path) -> None:
    db = tmp_path / "runs.db"
    add_run(db)
    with closing(sqlite3.connect(db)) as conn:
        conn.execute("PRAGMA journal_mode=delete")
    Path(f"{db}-wal").mkdir()
    db_paths.mispaired_log(db)  # not "another database's log"
