"""Reading a WAL database that nobody has open leaves no ``-wal``/``-shm`` beside it and
never changes its bytes; a reader never removes the side files of a writer that has
the database open (SQLite's own lock decides), and it never switches to a mode that
could change the file when frames wait in a ``-wal``."""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from tests.cli._hostile import add_run
from wattwise.cli import _register_all, app
from wattwise.records.store import Store
from wattwise.server import create_app

_register_all()


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


@pytest.fixture()
def db(tmp_path: Path) -> Path:
    path = tmp_path / "runs.db"
    add_run(path)
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    conn.close()
    assert _files(tmp_path) == ["runs.db"], "closed cleanly: no side files"
    return path


@pytest.mark.parametrize("args", [
    ["runs"], ["runs", "--json"], ["show", "1"], ["export", "1"], ["export", "1", "-f", "csv"],
    ["report", "1"],
])
def test_a_cli_view_leaves_no_side_files(db: Path, args: list[str]) -> None:
    before = _sha(db)
    r = CliRunner().invoke(app, [*args, "--db", str(db)])
    assert r.exit_code == 0, r.stderr
    assert _files(db.parent) == ["runs.db"]
    assert _sha(db) == before


def test_the_dashboard_leaves_no_side_files_once_it_stops(db: Path) -> None:
    before = _sha(db)
    with TestClient(create_app(db, port=8787), base_url="http://127.0.0.1:8787") as c:
        for path in ("/api/runs", "/api/runs/1", "/api/runs/1/timeline", "/metrics", "/"):
            assert c.get(path).status_code == 200
    assert _files(db.parent) == ["runs.db"]
    assert _sha(db) == before


def test_a_reader_keeps_the_side_files_of_a_writer_that_has_it_open(db: Path) -> None:
    writer = Store(db)  # this process's writer: holds the database open in WAL mode
    try:
        rid = writer.create_run(name="live", started_unix_s=1.0, host={}, hardware={},
                                sensors=[], versions={})
        with Store(db, readonly=True) as ro:
            assert next(r.name for r in ro.list_runs()) == "train"
        assert (db.parent / "runs.db-wal").exists()  # not the reader's to remove
        writer.finish_run(rid, ended_unix_s=2.0, status="finished")  # and it still writes
        other = sqlite3.connect(db)  # a writer of another connection, too
        other.execute("BEGIN")
        other.execute("SELECT count(*) FROM runs").fetchone()
        with Store(db, readonly=True) as ro:
            assert ro.get_run(rid).status == "finished"
        assert (db.parent / "runs.db-wal").exists() and (db.parent / "runs.db-shm").exists()
        other.execute("COMMIT")
        other.close()
    finally:
        writer.close()


def test_frames_waiting_in_a_wal_are_read_without_changing_the_file(db: Path) -> None:
    hold = sqlite3.connect(db)  # keeps the WAL from being folded back at close
    hold.execute("PRAGMA wal_autocheckpoint = 0")
    hold.execute("UPDATE runs SET name = 'renamed'")
    hold.commit()
    before = _sha(db)
    wal = db.parent / "runs.db-wal"
    assert wal.stat().st_size > 0
    with Store(db, readonly=True) as ro:
        assert ro.get_run(1).name == "renamed"
    assert _sha(db) == before and wal.stat().st_size > 0
    hold.close()
