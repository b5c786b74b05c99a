"""A run database damaged while ``wattwise run`` records into it is said at the run's end:
the run ended "exit code 0" with no word, and no command could read its record."""

from __future__ import annotations

import sqlite3
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.fixtures.damaged_pages import E7_TREES
from wattwise.cli import _register_all, app

pytestmark = pytest.mark.usefixtures("no_ambient_zone")


def _run(db: Path, *command: str) -> tuple[int, str]:
    _register_all()
    r = CliRunner().invoke(app, ["run", "--db", str(db), "--zone", "DE", "-i", "0.1", "--",
                                 *command], env={"COLUMNS": "400"})
    return r.exit_code, r.output


def _root_pages(db: Path) -> list[int]:
    """Where the b-trees no run writes into begin (``E7_TREES``), in bytes, the file's
    log folded in first."""
    conn = sqlite3.connect(db)
    try:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        size = int(conn.execute("PRAGMA page_size").fetchone()[0])
        return [(int(conn.execute("SELECT rootpage FROM sqlite_master WHERE name = ?",
                                  (name,)).fetchone()[0]) - 1) * size for name in E7_TREES]
    finally:
        conn.close()


@pytest.mark.parametrize("code", [0, 3])
def test_a_file_damaged_while_the_run_recorded_is_said_and_the_exit_code_passes(
        tmp_path: Path, code: int) -> None:
    db = tmp_path / "runs.db"
    assert _run(db, sys.executable, "-c", "pass")[0] == 0
    offsets = _root_pages(db)
    # the job itself damages the file as the run records it (a bad disk, a torn copy)
    damage = (f"import time; f = open({str(db)!r}, 'r+b')\n"
              f"for o in {offsets!r}:\n    f.seek(o); f.write(b'\\xff' * 4096)\n"
              f"f.close(); time.sleep(0.3); raise SystemExit({code})")
    rc, out = _run(db, sys.executable, "-c", damage)
    assert rc == code, out
    warned = [line for line in out.splitlines() if "is damaged" in line]
    assert len(warned) == 1, out
    assert warned[0].startswith("wattwise: warning: run database ")
    assert "run 2 was recorded into it and may not read back" in warned[0]
    assert ".recover" in warned[0] and "nothing is read or written" not in warned[0]


def test_a_sound_file_is_not_said_damaged(tmp_path: Path) -> None:
    db = tmp_path / "runs.db"
    for _ in range(2):
        rc, out = _run(db, sys.executable, "-c", "pass")
        assert rc == 0 and "damaged" not in out, out


def test_no_store_checks_no_file(tmp_path: Path) -> None:
    _register_all()
    r = CliRunner().invoke(app, ["run", "--no-store", "--zone", "DE", "--", sys.executable,
                                 "-c", "pass"])
    assert r.exit_code == 0 and "damaged" not in r.output
