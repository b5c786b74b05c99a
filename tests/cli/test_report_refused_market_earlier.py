"""A run recorded before its stored emissions kept the note of a refused market-based
figure holds it only in its summary's notes: ``report``, which prices the run again
with no market option, still says it, once, as ``show`` does."""

from __future__ import annotations

import json
import sqlite3
import sys
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from wattwise.cli import _register_all, app
from wattwise.records.database import flush_all

_register_all()

pytestmark = pytest.mark.usefixtures("no_ambient_zone")

WHY = "no market-based figure: certificates of 1 MWh exceed the energy"


def _cli(db: Path, command: str, *args: str) -> Any:
    r = CliRunner().invoke(app, [command, "--db", str(db), *args], env={"COLUMNS": "400"})
    assert r.exit_code == 0, (r.stdout, r.stderr)
    return r


def _said(notes: Any) -> list[str]:
    return [n for n in notes or [] if isinstance(n, str) and n.startswith(WHY)]


def _recorded_refused(tmp_path: Path) -> Path:
    db = tmp_path / "runs.db"
    _cli(db, "run", "--zone", "DE", "--certificates-mwh", "1", "--contract-intensity", "50",
         "--", sys.executable, "-c", "pass")
    flush_all(30.0)  # the summary is written by this process's writer thread
    return db


def test_an_earlier_record_s_refusal_reaches_report_once(tmp_path: Path) -> None:
    db = _recorded_refused(tmp_path)
    with sqlite3.connect(db) as conn:  # as recorded before: the note in its notes only
        summary = json.loads(conn.execute("SELECT summary_json FROM runs WHERE id = 1")
                             .fetchone()[0])
        (note,) = _said(summary["notes"])
        summary["emissions"]["notes"] = [n for n in summary["emissions"].get("notes") or []
                                         if not n.startswith(WHY)]
        conn.execute("UPDATE runs SET summary_json = ? WHERE id = 1", (json.dumps(summary),))
    rep = json.loads(_cli(db, "report", "1", "--json").stdout)
    assert _said(rep["emissions"]["notes"]) == [note]
    assert rep["emissions"]["market_g"] is None
    text = " ".join(_cli(db, "report", "1").stdout.split())
    assert text.count(f"note: {note}") == 1, text


def test_a_current_record_s_refusal_is_said_once(tmp_path: Path) -> None:
    db = _recorded_refused(tmp_path)
    rep = json.loads(_cli(db, "report", "1", "--json").stdout)
    assert len(_said(rep["emissions"]["notes"])) == 1
