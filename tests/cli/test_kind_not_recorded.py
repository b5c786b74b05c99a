"""A kind that is not recorded (null in a summary's total, a domain or a step mark) is
"unknown" in ``show`` and ``report``, the word each already gives a total without one,
never Python's "None"."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from typer.testing import CliRunner

from tests._damage import edit_summary, tracked_run
from wattwise.cli import _register_all, app
from wattwise.records.store import Store

_register_all()


def test_a_kind_not_recorded_is_unknown_never_none(tmp_path: Path) -> None:
    db = tmp_path / "runs.db"
    rid = tracked_run(db)
    with Store(db) as store:
        store.add_steps(rid, [(1, 1.0e9, 1, 1.0, 1.0, 1.0, "measured")])
    conn = sqlite3.connect(db)  # another program's rebuilt table: no NOT NULL on kind
    with conn:
        conn.executescript(
            "CREATE TABLE s2 AS SELECT * FROM steps; DROP TABLE steps;"
            " CREATE TABLE steps AS SELECT * FROM s2; DROP TABLE s2;"
            " UPDATE steps SET kind = NULL;")
    conn.close()

    def nulls(s: dict) -> None:
        s["kind"] = None
        s["domains"][0]["kind"] = None

    edit_summary(db, rid, nulls)
    runner = CliRunner()
    shown = runner.invoke(app, ["show", str(rid), "--db", str(db)], env={"COLUMNS": "300"})
    told = runner.invoke(app, ["report", str(rid), "--db", str(db)], env={"COLUMNS": "300"})
    assert shown.exit_code == 0 and told.exit_code == 0, (shown.output, told.output)
    for out in (shown.stdout, told.stdout):
        assert "None" not in out, out
    assert "│ unknown " in shown.stdout  # the domain's row and the total's
    assert "since the start (unknown)" in shown.stdout
    assert "(unknown) over " in told.stdout.splitlines()[0]
