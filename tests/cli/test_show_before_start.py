"""A sample stamped before its run's recorded start is said by ``show``, ``show --json``
and ``/api/runs/ID`` with the note ``report`` and the timeline give; a run without one
gets no such note."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from fastapi.testclient import TestClient
from typer.testing import CliRunner

from tests.server._runs import DOMAINS, demo_like
from wattwise.carbon.sample_energy import before_start_note
from wattwise.cli import _register_all, app
from wattwise.records.store import Store
from wattwise.server.app import create_app

_register_all()
CPU = DOMAINS[0][0]


def _cli(*args: str) -> str:
    res = CliRunner().invoke(app, list(args), env={"COLUMNS": "400"})
    assert res.exit_code == 0, res.output
    return res.stdout


def _run(tmp_path: Path, moved: bool) -> tuple[Path, int]:
    db = tmp_path / "runs.db"
    with Store(db) as store:
        rid = demo_like(store)
    if moved:  # its first cpu sample moved 100 s before the run's start
        with sqlite3.connect(db) as conn:
            conn.execute("UPDATE samples SET t_unix_s = t_unix_s - 100 WHERE rowid = (SELECT"
                         " min(rowid) FROM samples WHERE run_id = ? AND domain = ?)",
                         (rid, CPU))
    return db, rid


def _notes(db: Path, rid: int) -> tuple[list[str], list[str], list[str], str]:
    shown = json.loads(_cli("show", str(rid), "--db", str(db), "--json"))["notes"]
    with TestClient(create_app(db), base_url="http://127.0.0.1") as c:
        page = c.get(f"/api/runs/{rid}").json()["notes"]
    report = json.loads(_cli("report", str(rid), "--db", str(db), "--json"))
    text = " ".join(_cli("show", str(rid), "--db", str(db)).split())
    return shown, page, report["emissions"]["notes"], text


def test_show_and_the_run_api_say_a_sample_before_the_start(tmp_path: Path) -> None:
    db, rid = _run(tmp_path, moved=True)
    note = before_start_note(1)
    shown, page, reported, text = _notes(db, rid)
    assert note in reported  # what report says, every output says
    assert shown.count(note) == 1 and page.count(note) == 1, (shown, page)
    assert text.count(f"note: {' '.join(note.split())}") == 1, text


def test_a_run_with_no_such_sample_has_no_such_note(tmp_path: Path) -> None:
    db, rid = _run(tmp_path, moved=False)
    note = before_start_note(1)
    shown, page, reported, text = _notes(db, rid)
    assert note not in shown + page + reported and "recorded start" not in text
