"""A file of our schema version whose tables lack a column (edited by hand, or another
program's) is refused whole in one line, never a traceback or a 500, and left as it was;
tracking into it does not crash the program."""

from __future__ import annotations

import hashlib
import sqlite3
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

import wattwise
from tests.fixtures.fake_sensors import ConstantPowerSensor
from wattwise.cli import _register_all, app
from wattwise.errors import StoreError
from wattwise.records.schema import COLUMNS
from wattwise.records.store import Store

_register_all()

#: One column of each table (the id columns are kept: SQLite will not drop a key).
DROPPED = [("runs", "tags_json"), ("runs", "heartbeat_unix_s"), ("runs", "summary_json"),
           ("runs", "pid_started_unix_s"), ("samples", "gap"), ("windows", "extra_json"),
           ("events", "level"), ("steps", "kind")]


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = tmp_path_factory.mktemp("cols") / "r.db"
    with wattwise.track("job", db=db, sensors=[ConstantPowerSensor({"cpu:package": 40.0})],
                        interval_s=0.05, zone="DE") as run:
        with run.window("w"):
            time.sleep(0.2)
        run.step(1)
    assert run.flush()
    return db


def test_every_table_is_checked() -> None:
    assert {t for t, _ in DROPPED} == set(COLUMNS)


@pytest.mark.parametrize(("table", "column"), DROPPED)
def test_a_table_lacking_a_column_is_refused_in_one_line(
        recorded: Path, tmp_path: Path, table: str, column: str) -> None:
    db = tmp_path / "r.db"
    with sqlite3.connect(recorded) as src, sqlite3.connect(db) as dst:
        src.backup(dst)  # the file with what its write-ahead log holds
    src.close()
    dst.close()
    with sqlite3.connect(db) as conn:
        for (index,) in conn.execute(  # the indexes that hold the column go with it
                "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = ?"
                " AND sql LIKE ?", (table, f"%{column}%")).fetchall():
            conn.execute(f"DROP INDEX {index}")
        conn.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
    conn.close()
    before = hashlib.sha256(db.read_bytes()).hexdigest()
    want = f"run database {db} is damaged: a table lacks columns every wattwise record holds"
    with pytest.raises(StoreError, match="a table lacks columns") as got:
        Store(db, readonly=True)
    assert f"({table}: {column})" in str(got.value)
    for args in (["runs"], ["show", "1"], ["report", "1"], ["export", "1"]):
        r = CliRunner().invoke(app, [*args, "--db", str(db)])
        assert r.exit_code == 2, (args, r.output)
        assert r.stderr.strip().splitlines() == [f"wattwise: error: {want} ({table}: "
                                                 f"{column}); left untouched"], r.stderr
    from wattwise.server import create_app

    with TestClient(create_app(db), base_url="http://127.0.0.1") as client:
        for url in ("/api/runs", "/api/runs/1", "/api/runs/1/timeline", "/metrics"):
            r = client.get(url)
            assert r.status_code == 503 and want in r.json()["error"], (url, r.text)
    assert hashlib.sha256(db.read_bytes()).hexdigest() == before
    with pytest.warns(Warning, match="run not recorded .*a table lacks columns"), \
            wattwise.track("more", db=db, sensors=[ConstantPowerSensor({"cpu:package": 1.0})],
                           interval_s=0.05):
        pass  # not recorded, said once, and the program goes on
    assert hashlib.sha256(db.read_bytes()).hexdigest() == before
