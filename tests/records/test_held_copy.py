"""A file another process holds locked (a write transaction whose cache spilled, or a
WAL file in exclusive locking mode): ``wattwise run`` judges a copy of it, and refuses
another program's file before the command starts (it ran the command, then lost the
record at exit), leaving the held file and its side file as they are; a wattwise
database held so is waited for as before."""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from wattwise.records import held_copy
from wattwise.records.schema import check_schema

# held until a file named DB.release appears; "rollback": another program's file in
# delete mode (table foo, or only its application id), its transaction spilled to the file;
# "wal": its table made in an exclusive-mode WAL file ("wal-idle": then checkpointed,
# its -wal empty); "ours": a wattwise file in delete
# mode, one run renamed; "ours-renamed" (and "ours-memory", its journal kept in memory):
# its runs table renamed in the transaction, never committed; "wal-mended": an
# exclusive-mode WAL wattwise file whose runs table is renamed (committed), then, once
# DB.mend appears, renamed back (committed)
_HOLD = """
import os, sqlite3, sys, time
db, how = sys.argv[1], sys.argv[2]
c = sqlite3.connect(db, isolation_level=None)
if how in ("wal", "wal-idle", "wal-mended"):
    c.execute("PRAGMA journal_mode=WAL")
    c.execute("PRAGMA locking_mode=EXCLUSIVE")
    if how == "wal-mended":
        c.execute("ALTER TABLE runs RENAME TO runs_x")
    else:
        c.execute("CREATE TABLE foo(x)")
        c.execute("INSERT INTO foo VALUES ('kept')")
    if how == "wal-idle":  # all in the file, its -wal emptied: nothing to replay
        c.execute("PRAGMA wal_checkpoint(TRUNCATE)")
else:
    if how == "ours-memory":
        c.execute("PRAGMA journal_mode=MEMORY")
    c.execute("PRAGMA cache_size=1")
    c.execute("PRAGMA cache_spill=1")
    c.execute("BEGIN")
    if how == "ours":
        c.execute("UPDATE runs SET name='held'")
    elif how.startswith("ours-"):  # the schema's page too among those spilled
        c.execute("ALTER TABLE runs RENAME TO runs_x")
        c.execute("UPDATE samples SET run_id = run_id")
        c.execute("UPDATE runs_x SET name = name")
    elif how == "appid":
        c.execute("PRAGMA application_id=0")
    else:
        c.execute("DROP TABLE foo")
    c.execute("CREATE TABLE pad(x)")
    c.executemany("INSERT INTO pad VALUES (?)", [("z" * 1000,)] * 200)
open(db + ".ready", "w").close()
while not os.path.exists(db + ".release"):
    if how == "wal-mended" and os.path.exists(db + ".mend"):
        c.execute("ALTER TABLE runs_x RENAME TO runs")
        os.remove(db + ".mend")
        open(db + ".mended", "w").close()
    time.sleep(0.02)
if how.startswith("ours-"):
    c.execute("ROLLBACK")
c.close()
"""


def _foreign(db: Path, appid: bool = False) -> None:
    conn = sqlite3.connect(db, isolation_level=None)
    try:
        conn.execute("PRAGMA journal_mode=DELETE")
        if appid:
            conn.execute("PRAGMA application_id=777")
        else:
            conn.execute("CREATE TABLE foo(x)")
            conn.execute("INSERT INTO foo VALUES ('kept')")
    finally:
        conn.close()


@contextmanager
def _held(db: Path, how: str) -> Iterator[subprocess.Popen[bytes]]:
    holder = subprocess.Popen([sys.executable, "-c", _HOLD, str(db), how])
    try:
        deadline = time.monotonic() + 30
        while not Path(f"{db}.ready").exists():
            assert time.monotonic() < deadline and holder.poll() is None
            time.sleep(0.05)
        yield holder
    finally:
        Path(f"{db}.release").touch()
        holder.wait(timeout=60)


def _files(db: Path) -> dict[str, str]:
    """Each file of the database (side files too), by name, as a digest of its bytes."""
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(db.parent.iterdir()) if p.name.startswith(db.name + "-")
            or p.name == db.name}


def _run(db: Path, *command: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "WATTWISE_ZONE": "DE", "COLUMNS": "200"}
    return subprocess.run([sys.executable, "-m", "wattwise", "run", "--db", str(db),
                           "--name", "j", "--", *command],
                          capture_output=True, text=True, env=env, timeout=180)


@pytest.mark.parametrize(("how", "said"), [
    ("rollback", "tables: foo"), ("appid", "its application id is 777"),
    ("wal", "tables: foo"), ("wal-idle", "tables: foo")])
def test_another_programs_held_file_is_refused_before_the_command(
        tmp_path: Path, how: str, said: str) -> None:
    db = tmp_path / "other.db"
    if not how.startswith("wal"):
        _foreign(db, appid=how == "appid")
    ran = tmp_path / "ran"
    with _held(db, how):
        side = Path(f"{db}-{'wal' if how.startswith('wal') else 'journal'}")
        assert side.exists(), "held with its side file"
        before = _files(db)
        r = _run(db, "sh", "-c", f"touch {ran}; exit 3")
        assert _files(db) == before, "the held file and its side file are only read"
    assert r.returncode == 2, r.stdout + r.stderr
    assert r.stderr.splitlines() == [
        f"wattwise: error: run database {db} is a SQLite file of another program ({said}) "
        "(read from a copy: another process holds it locked); left untouched"], r.stderr
    assert not ran.exists(), "refused before the command started"
    conn = sqlite3.connect(db)
    try:
        if how == "appid":
            assert conn.execute("PRAGMA application_id").fetchone()[0] == 777
        else:
            assert conn.execute("SELECT x FROM foo").fetchall() == [("kept",)]
        assert "runs" not in {n for (n,) in conn.execute("SELECT name FROM sqlite_master")}
    finally:
        conn.close()


def test_a_wattwise_database_held_so_is_waited_for_and_recorded(tmp_path: Path) -> None:
    db = tmp_path / "runs.db"
    assert _run(db, "true").returncode == 0
    conn = sqlite3.connect(db, isolation_level=None)
    try:
        assert conn.execute("PRAGMA journal_mode=DELETE").fetchone()[0] == "delete"
    finally:
        conn.close()
    with _held(db, "ours") as holder:
        env = {**os.environ, "WATTWISE_ZONE": "DE", "COLUMNS": "200"}
        run = subprocess.Popen(
            [sys.executable, "-m", "wattwise", "run", "--db", str(db), "--name", "j", "--",
             "sh", "-c", "exit 3"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            text=True, env=env)
        time.sleep(3)  # the command has ended; its record waits for the lock
        assert holder.poll() is None
    out, err = run.communicate(timeout=180)
    assert run.returncode == 3, out + err
    assert "the run database is busy (locked by another process)" in out + err
    listed = subprocess.run([sys.executable, "-m", "wattwise", "runs", "--db", str(db),
                             "--json"], capture_output=True, text=True, timeout=120)
    rows = json.loads(listed.stdout)
    rows = rows.get("runs", rows) if isinstance(rows, dict) else rows
    assert [r["name"] for r in rows] == ["j", "j"], "the holder rolled back; both runs kept"


# ``wattwise`` with each copy into a held-copy folder 2 s slower (a slow disk or TMPDIR),
# and begun half a second late
_SLOW_COPY = """
import runpy, shutil, sys, time
real = shutil.copyfile
def slow(src, dst, *a, **k):
    out = real(src, dst, *a, **k)
    if "wattwise-held-" in str(dst):
        time.sleep(1.5)
    return out
shutil.copyfile = slow
from wattwise.records import held_copy
identity = held_copy._identity
def late(side, wal):
    time.sleep(0.5)  # the copy begun after the first open's quarter second
    return identity(side, wal)
held_copy._identity = late
sys.argv = ["wattwise", *sys.argv[1:]]
runpy.run_module("wattwise", run_name="__main__")
"""


def test_a_copy_slower_than_the_first_open_is_waited_for(tmp_path: Path) -> None:
    """A copy longer than the writer's first open (a quarter second), or begun after it,
    let the command run, and the file was refused at its end (the record lost)."""
    db, ran = tmp_path / "other.db", tmp_path / "ran"
    _foreign(db)
    env = {**os.environ, "WATTWISE_ZONE": "DE", "COLUMNS": "200"}
    with _held(db, "rollback"):
        r = subprocess.run([sys.executable, "-c", _SLOW_COPY, "run", "--db", str(db),
                            "--name", "j", "--", "touch", str(ran)],
                           capture_output=True, text=True, env=env, timeout=180)
    assert r.returncode == 2, r.stdout + r.stderr
    assert r.stderr.splitlines() == [
        f"wattwise: error: run database {db} is a SQLite file of another program (tables: "
        "foo) (read from a copy: another process holds it locked); left untouched"], r.stderr
    assert not ran.exists(), "refused before the command started"


def _judge(path: Path) -> str | None:
    return held_copy.judged_from_copy(path, lambda conn: check_schema(conn, path))


def test_no_copy_is_judged_past_its_size_or_while_the_side_file_changes(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db = tmp_path / "other.db"
    _foreign(db)
    with _held(db, "rollback"):
        monkeypatch.setattr(held_copy, "COPY_LIMIT_BYTES", db.stat().st_size)
        assert _judge(db) is None, "too large to copy: the caller waits"
        monkeypatch.undo()
        real = held_copy._identity
        asked: list[int] = []

        def moving(side: Path, wal: bool) -> bytes | None:
            asked.append(1)
            got = real(side, wal)
            return got + bytes([len(asked)]) if got else got  # a new transaction each time

        monkeypatch.setattr(held_copy, "_identity", moving)
        assert _judge(db) is None, "the journal changed while copied: nothing judged"
        monkeypatch.setattr(held_copy, "_identity", real)
        assert _judge(db) is not None and "tables: foo" in str(_judge(db))


def _wattwise_db(db: Path, mode: str = "DELETE") -> None:
    assert _run(db, "true").returncode == 0
    conn = sqlite3.connect(db, isolation_level=None)
    try:
        assert conn.execute(f"PRAGMA journal_mode={mode}").fetchone()[0] == mode.lower()
    finally:
        conn.close()


def _counted_copies(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    import shutil

    copies: list[str] = []
    real = shutil.copyfile

    def counted(src: object, dst: object) -> object:
        copies.append(str(src))
        return real(src, dst)  # type: ignore[arg-type]

    monkeypatch.setattr(held_copy.shutil, "copyfile", counted)
    monkeypatch.setattr(held_copy, "_PASSED", {})
    return copies


def test_a_file_that_passed_is_not_copied_at_every_poll_a_refusal_always_afresh(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A writer asks at every poll (0.25 s) while the lock is held: a file that passed is
    copied again only after ``AGAIN_S``; a refusal is never kept (a busy owner copied a
    49 MB file 73 times in 11 s; a kept refusal refused a file mended since)."""
    ours, other = tmp_path / "runs.db", tmp_path / "other.db"
    _wattwise_db(ours)
    _foreign(other)
    copies = _counted_copies(monkeypatch)
    with _held(ours, "ours"):
        assert [_judge(ours) for _ in range(5)] == [None] * 5
    assert copies == [str(ours), f"{ours}-journal"]
    copies.clear()
    with _held(other, "rollback"):
        said = [_judge(other) for _ in range(3)]
    assert len(set(said)) == 1 and said[0] is not None and len(copies) == 6
    assert not [p for p in Path(tempfile.gettempdir()).glob(f"wattwise-held-{os.getpid()}-*")]


def test_a_refusal_is_not_kept_past_the_owner_s_mending_it(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """In one process (``track()``), a WAL file held in exclusive mode whose owner renamed
    the runs table and then renamed it back (both committed, one WAL header): it was
    refused again from the first verdict, and the record was lost."""
    db = tmp_path / "runs.db"
    _wattwise_db(db, "WAL")
    monkeypatch.setattr(held_copy, "_PASSED", {})
    with _held(db, "wal-mended"):
        assert "no runs table" in str(_judge(db))
        Path(f"{db}.mend").touch()
        deadline = time.monotonic() + 30
        while not Path(f"{db}.mended").exists():
            assert time.monotonic() < deadline
            time.sleep(0.05)
        assert _judge(db) is None


@pytest.mark.parametrize("how", ["ours-renamed", "ours-memory"])
@pytest.mark.parametrize("linked", [False, True])
def test_a_wattwise_database_is_judged_as_committed_never_as_its_owner_left_it(
        tmp_path: Path, how: str, linked: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    """Its owner renamed the runs table and will roll back: judged from the file beside a
    link (its journal lies beside the target), or without the journal kept in memory,
    the copy was the uncommitted file, refused as damaged, and the record lost. The file
    and its journal are copied as SQLite finds them, and a file without one is not."""
    (tmp_path / "real").mkdir()
    db = tmp_path / "real" / "runs.db"
    _wattwise_db(db)
    given = db
    if linked:
        given = tmp_path / "link.db"
        given.symlink_to(db)
    copies = _counted_copies(monkeypatch)
    with _held(db, how):
        assert _judge(given) is None
        assert copies == ([] if how == "ours-memory" else [str(db), f"{db}-journal"])
        env = {**os.environ, "WATTWISE_ZONE": "DE", "COLUMNS": "200"}
        run = subprocess.Popen(
            [sys.executable, "-m", "wattwise", "run", "--db", str(given), "--name", "j",
             "--", "sh", "-c", "exit 3"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            text=True, env=env)
        time.sleep(3)
    out, err = run.communicate(timeout=180)
    assert run.returncode == 3, out + err
    assert "damaged" not in err, err


def test_another_program_s_file_behind_a_link_is_refused_before_the_command(
        tmp_path: Path) -> None:
    (tmp_path / "real").mkdir()
    db = tmp_path / "real" / "other.db"
    link = tmp_path / "link.db"
    link.symlink_to(db)
    ran = tmp_path / "ran"
    with _held(db, "wal"):
        r = _run(link, "sh", "-c", f"touch {ran}")
    assert r.returncode == 2 and "(read from a copy" in r.stderr, r.stderr
    assert not ran.exists()


def test_copies_a_killed_process_left_are_removed(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    left = Path(tempfile.gettempdir()) / f"wattwise-held-{int(dead.stdout)}-x1"
    left.mkdir()
    (left / "held.db").write_bytes(b"another program's data")
    db = tmp_path / "other.db"
    _foreign(db)
    monkeypatch.setattr(held_copy, "_PASSED", {})
    with _held(db, "rollback"):
        assert _judge(db) is not None
    assert not left.exists()


def test_a_journal_another_mode_left_zeroed_is_no_transaction_to_undo(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A journal a PERSIST-mode program left zeroed beside a wattwise database whose owner
    now keeps its journal in memory: the file holds pages not committed, and was judged
    as committed (refused as damaged: "no runs table")."""
    db = tmp_path / "runs.db"
    _wattwise_db(db)
    Path(f"{db}-journal").write_bytes(bytes(512))
    copies = _counted_copies(monkeypatch)
    with _held(db, "ours-memory"):
        assert _judge(db) is None
    assert copies == []
