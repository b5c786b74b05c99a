"""``wattwise report`` says how a run that did not finish ended, as ``show`` does: its
first line and its JSON give the status and the exit code (a failed run's report read as
a finished one's)."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from tests._cli_out import cli_out, recorded, said

pytestmark = pytest.mark.usefixtures("no_ambient_zone")


@pytest.mark.parametrize("status, code, head", [
    ("failed", 3, "(failed, exit code 3):"),
    ("interrupted", 130, "(interrupted, exit code 130):"),
    ("finished", None, "'job': "),
])
def test_the_report_says_how_the_run_ended(tmp_path: Path, status: str, code: int | None,
                                           head: str) -> None:
    db = tmp_path / "r.db"
    rid = recorded(db)
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE runs SET status = ?, exit_code = ? WHERE id = ?",
                     (status, code, rid))
    first = said(cli_out("report", str(rid), "--db", str(db))).split(" over ")[0]
    assert first.startswith(f"run {rid} 'job'") and head in first, first
    assert ("exit code" in first) == (code is not None)
    out = json.loads(cli_out("report", str(rid), "--db", str(db), "--json"))
    shown = json.loads(cli_out("show", str(rid), "--db", str(db), "--json"))
    assert (out["status"], out["exit_code"]) == (shown["status"], shown["exit_code"]) \
        == (status, code)
