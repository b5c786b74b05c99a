"""``wattwise runs`` and ``show`` print a status wattwise never writes quoted as stored
(``'running '``, ``''``): the table printed "running" for "running " while ``/metrics``
counted it as ``other`` and ``--status running`` did not select it."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests._damage import tracked_run
from wattwise.cli import _register_all, app

_register_all()
pytestmark = pytest.mark.usefixtures("no_ambient_zone")


@pytest.mark.parametrize(("stored", "said"), [("running ", '"running "'), ("", '""'),
                                              ("finished", "finished")])
def test_a_status_is_printed_as_stored(tmp_path: Path, stored: str, said: str) -> None:
    db = tmp_path / "r.db"
    rid = tracked_run(db)
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE runs SET status = ? WHERE id = ?", (stored, rid))
    conn.close()
    runner = CliRunner()
    table = runner.invoke(app, ["runs", "--db", str(db)], terminal_width=200)
    assert table.exit_code == 0, table.output
    (row,) = [line for line in table.stdout.splitlines() if line.startswith("│")]
    assert row.split("│")[3].strip() == said, row
    shown = runner.invoke(app, ["show", str(rid), "--db", str(db)], terminal_width=200)
    assert shown.stdout.startswith(f"run {rid} 'job': {said}, started "), shown.stdout
