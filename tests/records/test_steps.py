"""Step marks in the run database: stored and read back in order, checked before they
are queued, and a database from before step marks read as it is, with none."""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

import pytest

from tests.fixtures.old_schema import version_1_db
from wattwise.errors import BadInput
from wattwise.records import schema
from wattwise.records.store import Store


def _run(store: Store) -> int:
    return store.create_run(name="train", started_unix_s=1000.0, host={}, hardware={},
                            sensors=[], versions={})


def test_step_marks_are_stored_and_read_back_in_time_order(tmp_path: Path) -> None:
    db = tmp_path / "runs.db"
    with Store(db) as store:
        rid = _run(store)
        store.add_steps(rid, [(3, 1003.0, 30, 9.0, 8.0, 10.0, "measured"),
                              (1, 1001.0, 10, 3.0, 2.5, 3.5, "estimated")])
        other = _run(store)
        store.add_steps(other, [(1, 1002.0, 1, 1.0, 1.0, 1.0, "measured")])
    with Store(db, readonly=True) as store:
        got = store.steps(rid)
        assert [(m["mark"], m["step"], m["kind"]) for m in got] == [
            (1, 10, "estimated"), (3, 30, "measured")]
        assert got[0] == {"mark": 1, "t_unix_s": 1001.0, "step": 10, "energy_j": 3.0,
                          "low_j": 2.5, "high_j": 3.5, "kind": "estimated"}
        assert len(store.steps(other)) == 1
        with pytest.raises(BadInput, match="no run '99'"):
            store.steps(99)


@pytest.mark.parametrize("mark", [
    (True, 1.0, 1, 1.0, 1.0, 1.0, "measured"),          # a bool is not a count
    (1, float("nan"), 1, 1.0, 1.0, 1.0, "measured"),     # no time
    (1, 1.0, 0, 1.0, 1.0, 1.0, "measured"),              # steps start at 1
    (1, 1.0, 1, float("inf"), 1.0, 1.0, "measured"),     # energy must be finite
    (1, 1.0, 1, 1.0),                                   # too short
])
def test_a_bad_mark_is_refused_before_anything_is_written(tmp_path: Path,
                                                          mark: tuple[object, ...]) -> None:
    with Store(tmp_path / "runs.db") as store:
        rid = _run(store)
        with pytest.raises(BadInput, match="step"):
            store.add_steps(rid, [(1, 1.0, 1, 1.0, 1.0, 1.0, "measured"), mark])
        assert store.steps(rid) == []


def test_a_database_from_before_step_marks_is_read_unchanged_with_none(
        tmp_path: Path) -> None:
    db = tmp_path / "old.db"
    rid = version_1_db(db)
    before = hashlib.sha256(db.read_bytes()).hexdigest()
    with Store(db, readonly=True) as store:
        assert store.get_run(rid).name == "old"
        assert store.steps(rid) == []
    assert hashlib.sha256(db.read_bytes()).hexdigest() == before
    conn = sqlite3.connect(db)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == 1
    assert not schema.has_table(conn, "steps")
    conn.close()


def test_a_writer_brings_an_old_database_to_the_current_schema(tmp_path: Path) -> None:
    db = tmp_path / "old.db"
    rid = version_1_db(db)
    with Store(db) as store:
        store.add_steps(rid, [(1, 1005.0, 5, 2.0, 2.0, 2.0, "measured")])
        assert [m["step"] for m in store.steps(rid)] == [5]
    conn = sqlite3.connect(db)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == schema.SCHEMA_VERSION == 3
    assert schema.has_table(conn, "steps")
    conn.close()
