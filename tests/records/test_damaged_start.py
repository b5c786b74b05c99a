"""A stored start that is not usable (text, past any calendar) is named as the damaged
field it is, in every output (it was said only as "the stored end is not usable ... after
the run's start"); so is a summary that cannot be read, in ``report`` and ``export`` too."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from tests._damage import tracked_run
from wattwise.cli import _register_all, app

_register_all()
pytestmark = pytest.mark.usefixtures("no_ambient_zone")


def _record(db: Path, column: str, value: Any) -> int:
    rid = tracked_run(db, seconds=0.2)
    with sqlite3.connect(db) as conn:
        conn.execute(f"UPDATE runs SET {column} = ? WHERE id = ?", (value, rid))
    conn.close()
    return rid


def _notes(db: Path, rid: int) -> dict[str, list[str]]:
    from wattwise.server import create_app

    def cli(*args: str) -> Any:
        r = CliRunner().invoke(app, [*args, "--db", str(db)])
        assert r.exit_code == 0, r.output
        return r

    ref = str(rid)
    with TestClient(create_app(db), base_url="http://127.0.0.1") as client:
        api = client.get(f"/api/runs/{rid}").json()["notes"]
        row = next(r for r in client.get("/api/runs?all_notes=true").json()["runs"]
                   if r["id"] == rid)
    return {
        "show": " ".join(cli("show", ref).output.split()).split("note: "),
        "show --json": json.loads(cli("show", ref, "--json").stdout)["notes"],
        "report --json": json.loads(cli("report", ref, "--json").stdout)["emissions"]["notes"],
        "report": " ".join(cli("report", ref).output.split()).split("note: "),
        "export -f json": json.loads(cli("export", ref).stdout)["notes"],
        "export -f csv": " ".join(cli("export", ref, "-f", "csv").stderr.split()).split(
            "wattwise: note: "),
        "/api/runs/ID": api,
        "/api/runs": row.get("notes") or [],
    }


@pytest.mark.parametrize(("column", "value", "why"), [
    ("started_unix_s", "soon", "not a number (stored as 'soon')"),
    ("started_unix_s", 1e300, "outside any calendar (1e+300 s since 1970)"),
    ("summary_json", "{not json", "not valid JSON"),
])
def test_every_output_names_the_damaged_field(tmp_path: Path, column: str, value: Any,
                                              why: str) -> None:
    db = tmp_path / "r.db"
    rid = _record(db, column, value)
    field = "start" if column == "started_unix_s" else "summary"
    want = f"the stored {field} cannot be read (damaged record: {why})"
    for output, notes in _notes(db, rid).items():
        assert sum(n.startswith(want) for n in notes) == 1, (output, notes)
