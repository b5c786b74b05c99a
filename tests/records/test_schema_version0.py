"""A SQLite file at schema version 0 that holds a view or a trigger but no table is
another program's, as one holding a table is: refused in one line, by reads and by
``wattwise run``, and left byte-identical (``run`` switched it to WAL before it refused
it, and reads called it a file with no wattwise runs yet)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from typer.testing import CliRunner

from wattwise.cli import _register_all, app

_register_all()


@pytest.mark.parametrize(("made", "said"), [
    ("CREATE VIEW runs AS SELECT 1 AS id", "(view runs)"),
    ("CREATE VIEW v AS SELECT 1 AS a; CREATE TRIGGER tr INSTEAD OF INSERT ON v BEGIN"
     " SELECT 1; END", "(trigger tr; view v)"),
    ("CREATE TABLE foo(a); CREATE INDEX fi ON foo(a)", "(tables: foo)"),
    ("PRAGMA application_id = 12345", "(its application id is 12345)"),
    ("CREATE TABLE foo(a); PRAGMA user_version = 2", "(its schema version is 2; tables: foo)"),
    ("CREATE VIEW v AS SELECT 1; PRAGMA user_version = 3", "(its schema version is 3; no "
     "tables)"),
])
def test_another_programs_file_is_refused_and_left_untouched(tmp_path: Path, made: str,
                                                             said: str) -> None:
    db = tmp_path / "x.db"
    with sqlite3.connect(db) as conn:
        conn.executescript(made)
    conn.close()
    before = db.read_bytes()
    for args in (["runs"], ["run", "--", "true"], ["report"]):
        r = CliRunner().invoke(app, [*args[:1], "--db", str(db), *args[1:]])
        assert r.exit_code == 2, (args, r.output)
        assert "is a SQLite file of another program" in r.output, r.output
        assert said in r.output, r.output
        assert "Traceback" not in r.output
        assert db.read_bytes() == before, args
    assert not Path(f"{db}-wal").exists()


def _wal_of(db: Path, sql: str) -> None:
    """``db`` in WAL mode, ``sql`` committed to its -wal only (never checkpointed)."""
    import shutil

    src = db.with_name("src.db")
    conn = sqlite3.connect(src)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA wal_autocheckpoint = 0")
    conn.executescript(sql)
    shutil.copyfile(src, db)
    shutil.copyfile(f"{src}-wal", f"{db}-wal")
    conn.close()


def _hot_journal(db: Path, sql: str, write: str) -> None:
    """``db`` in rollback mode after ``sql``, with ``write`` cut short: its -journal left."""
    import subprocess
    import sys

    with sqlite3.connect(db) as conn:
        conn.executescript(sql)
    conn.close()
    subprocess.run([sys.executable, "-c", (
        "import os, sqlite3, sys\n"
        "c = sqlite3.connect(sys.argv[1], isolation_level=None)\n"
        "c.execute('PRAGMA journal_mode = DELETE'); c.execute('PRAGMA cache_size = 1')\n"
        "c.execute('BEGIN'); c.execute(sys.argv[2]); os._exit(0)"), str(db), write],
        check=True)
    assert Path(f"{db}-journal").exists()


@pytest.mark.parametrize("case", ["empty file", "table only in the -wal", "version -1",
                                  "a write cut short"])
def test_opening_never_changes_another_programs_file_or_its_wal(tmp_path: Path,
                                                                case: str) -> None:
    """An empty file with another database's -wal beside it (SQLite deletes that -wal as
    it opens the file, read-only too), a file whose table lies only in its -wal (a
    writer's connection closed on the refusal folded the -wal into the file), and one of
    schema version -1 (a writer switched it to WAL, then failed)."""
    db = tmp_path / "x.db"
    if case == "a write cut short":
        _hot_journal(db, "CREATE TABLE foo(a); INSERT INTO foo VALUES ('kept')",
                     "INSERT INTO foo SELECT hex(randomblob(3000)) FROM"
                     " (WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n"
                     " WHERE i < 300) SELECT i FROM n)")
    elif case == "version -1":
        with sqlite3.connect(db) as conn:
            conn.execute("PRAGMA user_version = -1")
        conn.close()
    else:
        _wal_of(db, "CREATE TABLE foo(a); INSERT INTO foo VALUES ('kept')")
        if case == "empty file":
            db.write_bytes(b"")
    sides = (db, Path(f"{db}-wal"), Path(f"{db}-journal"))
    files = {p.name: p.read_bytes() for p in sides if p.exists()}
    for args in (["run", "--", "true"], ["runs"], ["show", "1"]):
        r = CliRunner().invoke(app, [*args[:-2], "--db", str(db), *args[-2:]]
                               if args[0] == "run" else [*args, "--db", str(db)])
        assert r.exit_code == 2, (args, r.output)
        assert "left untouched" in " ".join(r.output.split()), r.output
        assert "Traceback" not in r.output
        assert {p.name: p.read_bytes() for p in sides if p.exists()} == files, args


def test_a_wattwise_file_holding_a_write_cut_short_is_said_so_then_finished(
        tmp_path: Path) -> None:
    """A read cannot roll a -journal back: it says so (it said "attempt to write a
    readonly database"); the next `wattwise run` rolls it back and records."""
    import subprocess
    import sys

    db = tmp_path / "w.db"  # recorded by another process: none of this one's holds it
    subprocess.run([sys.executable, "-m", "wattwise", "run", "--db", str(db), "--zone", "DE",
                    "--", sys.executable, "-c", "pass"], check=True, capture_output=True)
    with sqlite3.connect(db) as conn:
        conn.execute("PRAGMA journal_mode = DELETE")
    conn.close()
    _hot_journal(db, "SELECT 1", "INSERT INTO events(run_id, t_unix_s, level, message)"
                 " SELECT 1, 0, 'info', hex(randomblob(3000)) FROM (WITH RECURSIVE n(i) AS"
                 " (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 300) SELECT i FROM n)")
    r = CliRunner().invoke(app, ["runs", "--db", str(db)])
    assert r.exit_code == 2 and "holds a write that was cut short" in r.output, r.output
    link = tmp_path / "links" / "link.db"  # through a link: "attempt to write a readonly
    link.parent.mkdir()  # database", its -journal looked for beside the link
    link.symlink_to(db)
    r = CliRunner().invoke(app, ["runs", "--db", str(link)])
    assert r.exit_code == 2 and "holds a write that was cut short" in r.output, r.output
    r = CliRunner().invoke(app, ["run", "--db", str(db), "--", "true"])
    assert r.exit_code == 0, r.output
    r = CliRunner().invoke(app, ["runs", "--db", str(db), "--json"])
    assert r.exit_code == 0 and len(__import__("json").loads(r.stdout)) == 2, r.output


def _table_in_journal(db: Path) -> None:
    """Another program's rollback-mode file whose committed table ``foo`` lies only in a
    hot -journal (it crashed in a transaction that dropped it): the journal written in
    SQLite's format, holding the pages as they were before."""
    import shutil
    import struct

    before = db.with_name("before.db")
    conn = sqlite3.connect(before, isolation_level=None)
    conn.execute("CREATE TABLE foo(x)")
    conn.execute("INSERT INTO foo VALUES ('kept')")
    conn.close()
    pages, size = before.read_bytes(), 4096
    shutil.copy(before, db)
    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute("DROP TABLE foo")
    conn.close()
    n, nonce = len(pages) // size, 0x12345678
    journal = (bytes.fromhex("d9d505f920a163d7")
               + struct.pack(">IIIII", n, nonce, n, 512, size)).ljust(512, b"\0")
    for k in range(n):
        data = pages[k * size:(k + 1) * size]
        check = nonce + sum(data[i] for i in range(size - 200, 0, -200))
        journal += struct.pack(">I", k + 1) + data + struct.pack(">I", check & 0xFFFFFFFF)
    Path(f"{db}-journal").write_bytes(journal)
    before.unlink()


def test_a_table_only_in_a_hot_journal_is_never_undone_by_a_writer(tmp_path: Path) -> None:
    """The read-only check cannot undo the journal, and the file without it holds no
    table: a writer's open would undo it (the file changed, the journal gone), then
    refuse. It is refused before that, in one line, every byte kept."""
    db = tmp_path / "x.db"
    _table_in_journal(db)
    files = {p: p.read_bytes() for p in (db, Path(f"{db}-journal"))}
    r = CliRunner().invoke(app, ["run", "--db", str(db), "--", "true"])
    assert r.exit_code == 2, r.output
    assert "holds a write that was cut short" in " ".join(r.output.split()), r.output
    assert {p: p.read_bytes() for p in files} == files
    conn = sqlite3.connect(db)  # the undo brings the table back: it was there
    try:
        assert conn.execute("SELECT x FROM foo").fetchall() == [("kept",)]
    finally:
        conn.close()
