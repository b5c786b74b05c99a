"""A file of our schema version whose tables are not ours (a column missing or of another
type, a view in a table's place, a table missing: edited by hand, or another program's)
is refused whole in one line, never a traceback, a 500 or a figure read from text, and
left as it was; tracking into it does not crash the program."""

from __future__ import annotations

import hashlib
import sqlite3
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

import wattwise
from tests._damage import text_typed_samples
from tests.fixtures.fake_sensors import ConstantPowerSensor
from wattwise.cli import _register_all, app
from wattwise.errors import StoreError
from wattwise.records.schema import COLUMNS
from wattwise.records.store import Store
from wattwise.server import unsure_kept

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


def _copy(recorded: Path, db: Path) -> None:
    with sqlite3.connect(recorded) as src, sqlite3.connect(db) as dst:
        src.backup(dst)  # the file with what its write-ahead log holds
    src.close()
    dst.close()


def _refused(db: Path, why: str) -> None:
    """Every reader refuses ``db`` in one line naming ``why``; it is left as it was."""
    before = hashlib.sha256(db.read_bytes()).hexdigest()
    want = (f"run database {db} is damaged: its tables are not those every wattwise record"
            f" holds ({why}); left untouched")
    with pytest.raises(StoreError) as got:
        Store(db, readonly=True)
    assert str(got.value) == want
    for args in (["runs"], ["show", "1"], ["report", "1"], ["export", "1"]):
        r = CliRunner().invoke(app, [*args, "--db", str(db)])
        assert r.exit_code == 2, (args, r.output)
        assert r.stderr.strip().splitlines() == [f"wattwise: error: {want}"], r.stderr
    from wattwise.server import create_app

    with TestClient(create_app(db), base_url="http://127.0.0.1") as client:
        for url in ("/api/runs", "/api/runs/1", "/api/runs/1/timeline", "/metrics",
                    "/api/compare?ids=1"):
            r = client.get(url)
            assert r.status_code == 503 and want in r.json()["error"], (url, r.text)
    assert hashlib.sha256(db.read_bytes()).hexdigest() == before
    with pytest.warns(Warning, match="run not recorded .*its tables are not those"), \
            wattwise.track("more", db=db, sensors=[ConstantPowerSensor({"cpu:package": 1.0})],
                           interval_s=0.05):
        pass  # not recorded, said once, and the program goes on
    assert hashlib.sha256(db.read_bytes()).hexdigest() == before


@pytest.mark.parametrize(("table", "column"), DROPPED)
def test_a_table_lacking_a_column_is_refused_in_one_line(
        recorded: Path, tmp_path: Path, table: str, column: str) -> None:
    db = tmp_path / "r.db"
    _copy(recorded, db)
    with sqlite3.connect(db) as conn:
        for (index,) in conn.execute(  # the indexes that hold the column go with it
                "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = ?"
                " AND sql LIKE ?", (table, f"%{column}%")).fetchall():
            conn.execute(f"DROP INDEX {index}")
        # and the triggers and view that keep the runs SQL does not call usable, which
        # read it (``server.unsure_kept``: SQLite refuses to drop a column a view reads)
        for name in unsure_kept.TRIGGERS:
            conn.execute(f"DROP TRIGGER {name}")
        conn.execute(f"DROP VIEW {unsure_kept.VIEW}")
        conn.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
    conn.close()
    _refused(db, f"{table}: no {column}")


@pytest.mark.parametrize("table", ["runs", "samples", "windows", "events", "steps"])
def test_a_view_or_no_table_in_a_table_s_place_is_refused(
        recorded: Path, tmp_path: Path, table: str) -> None:
    for view in (True, False):
        db = tmp_path / f"{table}-{view}.db"
        _copy(recorded, db)
        with sqlite3.connect(db) as conn:
            conn.execute(f"ALTER TABLE {table} RENAME TO old_{table}")
            if view:  # every column, as a view: no rowid, no types
                conn.execute(f"CREATE VIEW {table} AS SELECT * FROM old_{table}")
        conn.close()
        _refused(db, f"{table} is a view, not a table" if view else f"no {table} table")


def test_numbers_stored_in_text_columns_are_refused(recorded: Path, tmp_path: Path) -> None:
    """Numbers as text ('1.12'): read as no number by some outputs and as one by others."""
    db = tmp_path / "r.db"
    _copy(recorded, db)
    text_typed_samples(db)
    _refused(db, "samples: run_id TEXT, t_unix_s TEXT, energy_j TEXT, power_w TEXT, low_j TEXT,"
                 " high_j TEXT, gap TEXT, not as wattwise writes them")


def test_an_older_file_without_a_later_table_is_read(tmp_path: Path) -> None:
    from tests.fixtures.old_schema import version_1_db

    db = tmp_path / "v1.db"
    rid = version_1_db(db)
    with Store(db, readonly=True) as store:
        assert store.get_run(rid).name == "old"


def test_names_in_another_case_are_ours(recorded: Path, tmp_path: Path) -> None:
    """SQLite's names are not case-sensitive: a column Energy_J is energy_j."""
    db = tmp_path / "r.db"
    _copy(recorded, db)
    with sqlite3.connect(db) as conn:
        conn.execute("ALTER TABLE samples RENAME COLUMN energy_j TO Energy_J")
    conn.close()
    with Store(db, readonly=True) as store:
        assert store.get_run(1).name == "job"
