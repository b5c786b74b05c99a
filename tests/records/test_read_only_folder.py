"""A database in a folder this user may not write, read by a long-lived reader (a team's
dashboard run by a service account): SQLite can make no ``-shm`` there, so with no
``-wal`` beside it the file is read as one that does not change (``immutable``), and
SQLite never looks at it again. The reader served the runs of its first read forever
(a run recorded since: "no run '9'"). It now reads the file anew once it has changed.

Only root can give the folder to another user, so the reader runs under ``setpriv``
without capabilities, as that other user would."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
from contextlib import closing
from pathlib import Path

import pytest

from tests.cli._hostile import add_run

_SETPRIV = shutil.which("setpriv")
pytestmark = pytest.mark.skipif(
    not (hasattr(os, "geteuid") and os.geteuid() == 0 and _SETPRIV),
    reason="gives the folder to another user: needs root and setpriv (util-linux)")

READER = """
import sys
from wattwise.records.store import Store
with Store(sys.argv[1], readonly=True) as store:
    for line in sys.stdin:
        print(len(store.list_runs()), flush=True)
"""


@pytest.mark.parametrize("via", ["path", "link"])
@pytest.mark.parametrize("first_mode", ["wal", "delete"])
def test_a_reader_of_a_folder_it_may_not_write_sees_runs_written_since(
    tmp_path: Path, first_mode: str, via: str
) -> None:
    """``delete``: the file was in rollback mode when the reader opened it, then turned to
    WAL mode: the reader's connection failed ("attempt to write a readonly database") at
    every request until it was restarted. ``link``: read through a link in a folder the
    reader may write, it served its first read, then called the sound file damaged."""
    folder = tmp_path / "team"
    folder.mkdir()
    db = folder / "runs.db"
    add_run(db)
    if first_mode == "delete":
        with closing(sqlite3.connect(db)) as conn:
            conn.execute("PRAGMA journal_mode=delete")
    for p in (folder, db):
        os.chown(p, 2001, 2001)  # another user's folder and file, 755 and 644
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2] / "src")}
    read = db
    if via == "link":
        (tmp_path / "mine").mkdir()
        read = tmp_path / "mine" / "link.db"
        read.symlink_to(Path("..") / "team" / "runs.db")
    reader = subprocess.Popen(
        [str(_SETPRIV), "--bounding-set=-all", "--inh-caps=-all", "--", sys.executable,
         "-c", READER, str(read)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        env=env)
    assert reader.stdin is not None and reader.stdout is not None

    def count() -> str:
        reader.stdin.write("\n")
        reader.stdin.flush()
        return reader.stdout.readline().strip()

    try:
        assert count() == "1"
        add_run(db)  # the owner records two more runs
        add_run(db)
        assert count() == "3"
    finally:
        reader.stdin.close()
        assert reader.wait(timeout=60) == 0
        reader.stdout.close()


CHECK_AGAIN = """
import sys
from contextlib import closing
from pathlib import Path
from wattwise.records import damaged_file
path = Path(sys.argv[1])
key, _ = damaged_file._state(path)
with damaged_file._CHECKED_LOCK:  # found damaged before, as it was then (beside a stale -wal)
    damaged_file._CHECKED[key] = ((0, 0, 0), True)
print(damaged_file.damage_found(path, key))
"""


def test_a_file_found_damaged_is_checked_again_where_no_shm_can_be_made(
    tmp_path: Path
) -> None:
    """Its check again opened it read-only, which SQLite cannot in a folder this user may
    not write (no -shm can be made): a sound file stayed "damaged" until the dashboard
    restarted."""
    folder = tmp_path / "team"
    folder.mkdir()
    db = folder / "runs.db"
    add_run(db)
    for p in (folder, db):
        os.chown(p, 2001, 2001)
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2] / "src")}
    done = subprocess.run(
        [str(_SETPRIV), "--bounding-set=-all", "--inh-caps=-all", "--", sys.executable,
         "-c", CHECK_AGAIN, str(db)], capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0 and done.stdout.strip() == "True", done


DASHBOARD = """
import sys
from pathlib import Path
from fastapi.testclient import TestClient
from wattwise.server.app import create_app
client = TestClient(create_app(Path(sys.argv[1]), port=8787), base_url="http://127.0.0.1:8787")
for line in sys.stdin:
    for url in ("/api/runs", "/api/runs/1"):
        r = client.get(url)
        print(r.status_code, r.json().get("error"), flush=True)
"""


def test_another_user_s_dashboard_over_a_write_cut_short_says_so(tmp_path: Path) -> None:
    """A dashboard serving while a writer was killed in a transaction: its reads failed
    "attempt to write a readonly database", which nothing asked of it, where the CLI said
    the write was cut short and how it is undone."""
    from tests.records.test_schema_version0 import _hot_journal

    folder = tmp_path / "team"
    folder.mkdir()
    db = folder / "runs.db"
    add_run(db)
    with closing(sqlite3.connect(db)) as conn:
        conn.execute("PRAGMA journal_mode=delete")
    for p in (folder, db):
        os.chown(p, 2001, 2001)
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2] / "src")}
    reader = subprocess.Popen(
        [str(_SETPRIV), "--bounding-set=-all", "--inh-caps=-all", "--", sys.executable,
         "-c", DASHBOARD, str(db)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
        text=True, env=env)
    assert reader.stdin is not None and reader.stdout is not None

    def ask() -> list[str]:
        reader.stdin.write("\n")
        reader.stdin.flush()
        return [reader.stdout.readline().strip() for _ in range(2)]

    try:
        assert [line[:3] for line in ask()] == ["200", "200"]
        _hot_journal(db, "SELECT 1", "INSERT INTO events(run_id, t_unix_s, level, message)"
                     " SELECT 1, 0, 'info', hex(randomblob(3000)) FROM (WITH RECURSIVE n(i)"
                     " AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 300)"
                     " SELECT i FROM n)")
        before = {p.name: p.read_bytes() for p in folder.iterdir()}
        lines = ask()
        assert all(line.startswith("503 ") and "holds a write that was cut short (its"
                   " -journal)" in line for line in lines), lines
        assert {p.name: p.read_bytes() for p in folder.iterdir()} == before
    finally:
        reader.stdin.close()
        assert reader.wait(timeout=60) == 0
        reader.stdout.close()


@pytest.mark.parametrize("journal", [b"", b"\0" * 12824])
def test_a_journal_holding_no_write_does_not_lock_a_reader_out(tmp_path: Path,
                                                               journal: bytes) -> None:
    """An empty -journal, or one whose header a persist-mode writer zeroed, beside the
    file: a reader that may not write the folder was refused for good, "holds a write
    that was cut short", though there was none, and neither cure it named removed it."""
    folder = tmp_path / "team"
    folder.mkdir()
    db = folder / "runs.db"
    add_run(db)
    add_run(db)
    Path(f"{db}-journal").write_bytes(journal)
    for p in (folder, db, Path(f"{db}-journal")):
        os.chown(p, 2001, 2001)
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2] / "src")}
    done = subprocess.run(
        [str(_SETPRIV), "--bounding-set=-all", "--inh-caps=-all", "--", sys.executable,
         "-c", READER, str(db)], input="\n", capture_output=True, text=True, env=env,
        timeout=120)
    assert done.returncode == 0 and done.stdout.split() == ["2"], done.stderr
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before
