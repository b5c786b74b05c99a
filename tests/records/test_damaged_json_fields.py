"""A run's stored JSON fields beyond its summary and tags (host, hardware, sensors,
versions, command) that cannot be read are said in every output, as the summary's are
(they read as empty without a word); a lost run whose host facts cannot be read sets
aside the zone and PUE it was started with, said so (it was priced at the world average
with a false "no zone set")."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from tests._damage import tracked_run
from wattwise.cli import _register_all, app

_register_all()
pytestmark = pytest.mark.usefixtures("no_ambient_zone")


def _cli(db: Path, *args: str) -> str:
    r = CliRunner().invoke(app, [*args, "--db", str(db)])
    assert r.exit_code == 0, r.output
    return r.stdout


@pytest.mark.parametrize("field", ["host", "hardware", "sensors", "versions", "command"])
def test_a_json_field_that_cannot_be_read_is_said_everywhere(tmp_path: Path,
                                                             field: str) -> None:
    from wattwise.server import create_app

    db = tmp_path / "r.db"
    rid = tracked_run(db)
    with sqlite3.connect(db) as conn:
        conn.execute(f"UPDATE runs SET {field}_json = ? WHERE id = ?",
                     ('{"a": NaN}' if field not in ("sensors", "command") else "[NaN]", rid))
    conn.close()
    said = (f"the stored {field} cannot be read (damaged record: not valid JSON (NaN is not"
            " a JSON number))")
    assert said in _cli(db, "show", str(rid)).replace("\n", " ")
    assert any(n.startswith(said) for n in json.loads(_cli(db, "show", str(rid), "--json"))
               ["notes"])
    assert said in _cli(db, "report", str(rid)).replace("\n", " ")
    with TestClient(create_app(db), base_url="http://127.0.0.1") as client:
        (row,) = client.get("/api/runs?all_notes=true").json()["runs"]
        page = client.get(f"/api/runs/{rid}").json()
    assert any(n.startswith(said) for n in row["notes"]), row["notes"]
    assert any(n.startswith(said) for n in page["notes"]), page["notes"]


@pytest.mark.parametrize(("damage", "said"), [
    ("replace(host_json, '\"pue\":null', '\"pue\":NaN')", "the stored host facts it is kept in"
     " cannot be read"),
    ("json_set(host_json, '$.carbon_options', json('[1]'))", "the carbon options it was"
     " started with are not a JSON object (stored as [1])"),
    ("json_set(host_json, '$.carbon_options', 5)", "the carbon options it was started with"
     " are not a JSON object (stored as 5)")])
def test_a_lost_run_whose_host_cannot_be_read_sets_its_zone_aside(
        tmp_path: Path, damage: str, said: str) -> None:
    db = tmp_path / "r.db"
    rid = tracked_run(db, zone="DE")
    with sqlite3.connect(db) as conn:  # lost an hour ago, before its summary
        before = conn.execute("SELECT host_json FROM runs").fetchone()[0]
        conn.execute("UPDATE samples SET t_unix_s = t_unix_s - 3600 WHERE run_id = ?", (rid,))
        conn.execute("UPDATE runs SET status = 'running', summary_json = NULL,"
                     " ended_unix_s = NULL, exit_code = NULL, pid = 999999999,"
                     " started_unix_s = started_unix_s - 3600,"
                     " heartbeat_unix_s = started_unix_s - 3599.7,"
                     f" host_json = {damage} WHERE id = ?", (rid,))
        assert conn.execute("SELECT host_json FROM runs").fetchone()[0] != before
    conn.close()
    shown = " ".join(_cli(db, "show", str(rid)).split())
    report = " ".join(_cli(db, "report", str(rid)).split())
    for text in (shown, report):
        assert "no zone set" not in text
        assert f"the run's recorded zone is not usable: {said}" in text
    assert "zone WORLD" in report
