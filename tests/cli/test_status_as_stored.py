"""``wattwise runs`` and ``show`` print a status wattwise never writes quoted as stored
(``'running '``, ``''``): the table printed "running" for "running " while ``/metrics``
counted it as ``other`` and ``--status running`` did not select it."""

from __future__ import annotations

import json
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


def test_a_blob_status_and_name_read_alike_in_every_output(tmp_path: Path) -> None:
    """Stored as blobs by another program: the status as SQLite writes a blob (no Python
    ``b'...'``), the name decoded as a text column is, in the CLI and the API alike."""
    from fastapi.testclient import TestClient

    from wattwise.server import create_app

    db = tmp_path / "r.db"
    rid = tracked_run(db)
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE runs SET status = ?, name = ? WHERE id = ?",
                     (b"finished", b"job\xff", rid))
    conn.close()
    status, name = "x'66696e6973686564'", "job\\xff"
    runner = CliRunner()
    table = runner.invoke(app, ["runs", "--db", str(db)], terminal_width=200)
    (row,) = [line for line in table.stdout.splitlines() if line.startswith("│")]
    assert [c.strip() for c in row.split("│")[2:4]] == [name, f'"{status}"'], row
    shown = runner.invoke(app, ["show", str(rid), "--db", str(db)], terminal_width=200)
    assert shown.stdout.startswith(f"run {rid} '{name}': \"{status}\", started "), shown.stdout
    listed = runner.invoke(app, ["runs", "--json", "--db", str(db)])
    assert [(r["name"], r["status"]) for r in json.loads(listed.stdout)] == [
        (name, status)]
    with TestClient(create_app(db), base_url="http://127.0.0.1") as client:
        (api_row,) = client.get("/api/runs").json()["runs"]
        run = client.get(f"/api/runs/{rid}").json()["run"]
        (found,) = client.get("/api/runs?q=JOB").json()["runs"]
    assert (api_row["name"], api_row["status"]) == (name, status)
    assert (run["name"], run["status"]) == (name, status)
    assert found["id"] == rid
