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
