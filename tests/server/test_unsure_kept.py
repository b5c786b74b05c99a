"""The runs whose stored figure SQL does not call usable, kept by SQLite's triggers
(``server.unsure_kept``): the same runs the pass over every summary finds, as
runs are written, edited by another program, re-keyed or deleted; a database whose
table, view or triggers are not this wattwise's is read by the pass, and the next
writer makes them again. A dashboard just started answered its first page far down by
energy in 4.5-6.3 s of 100,001 runs (BENCHMARKS.md), now in 65-109 ms."""

from __future__ import annotations

import functools
import json
import random
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from tests.server.test_sql_pages_deep import START, _summaries
from wattwise.records import schema
from wattwise.records.store import Store
from wattwise.server import _usable_sql, unsure_kept
from wattwise.server._sql import Reads

SORTS = ("energy", "emissions", "duration")


def _db(path: Path) -> Path:
    """A run database of this wattwise holding the deep pages' stored summaries (each
    part of the rule broken once), as another program might insert them."""
    with Store(path) as store:
        seed = store.create_run(name="seed", started_unix_s=START, host={"hostname": "h"},
                                hardware={}, versions={}, sensors=[])
        store.finish_run(seed, ended_unix_s=START + 1, status="finished", summary={})
    summaries: list[str | None] = _summaries()[-120:]
    # durations longer than the run's recorded start to end (9 s), or too long for any
    summaries += [json.dumps({"energy_j": 5.0, "low_j": 4.0, "high_j": 6.0, "duration_s": d})
                  for d in (1e12, 40.0, 1e300, 9.0)]
    random.Random(5).shuffle(summaries)
    with sqlite3.connect(path) as conn:
        for n, s in enumerate(summaries):
            conn.execute(
                "INSERT INTO runs (name, status, started_unix_s, ended_unix_s, hostname,"
                " host_json, hardware_json, sensors_json, versions_json, summary_json,"
                " tags_json) VALUES (?, ?, ?, ?, 'h', '{}', '{}', '[]', '{}', ?, '{}')",
                (f"job-{n}", "running" if s is None else "finished", START + n,
                 None if s is None else START + n + 9, s))
    conn.close()
    return path


def _kept(path: Path) -> dict[str, list[int]]:
    reads = Reads(path)
    try:
        assert unsure_kept.current(reads.rows)
        return {s: unsure_kept.unsure_ids(reads.rows, s) for s in SORTS}
    finally:
        reads.close()


def _passed(path: Path) -> dict[str, list[int]]:
    """What the pass over every summary finds (``UnusableRuns._unsure``)."""
    reads = Reads(path)
    try:
        runs = _usable_sql.UnusableRuns(reads.rows)
        return {s: sorted(runs._unsure(s, "1", ())) for s in SORTS}
    finally:
        reads.close()


def _drop_ours(conn: sqlite3.Connection, triggers: bool = True) -> None:
    """The table and view this wattwise made, and (``triggers``) its triggers, dropped by
    hand."""
    if triggers:
        for name in unsure_kept.TRIGGERS:
            conn.execute(f"DROP TRIGGER {name}")
    conn.execute(f"DROP VIEW {unsure_kept.VIEW}")
    conn.execute(f"DROP TABLE {unsure_kept.TABLE}")


def _write_one(db: Path) -> int:
    """A run created by a wattwise writer, which opens the file: its id."""
    with Store(db) as store:
        return store.create_run(name="next", started_unix_s=START + 500,
                                host={"hostname": "h"}, hardware={}, versions={},
                                sensors=[])


def _edit(path: Path, sql: str, *params: Any) -> None:
    with sqlite3.connect(path) as conn:
        conn.execute(sql, params)
    conn.close()


def test_the_kept_runs_are_the_pass_s_as_runs_are_written_edited_and_deleted(
        tmp_path: Path) -> None:
    db = _db(tmp_path / "runs.db")
    kept = _kept(db)
    assert kept == _passed(db)
    assert all(kept[s] for s in SORTS), "each figure has runs the rule must judge"
    rng = random.Random(11)
    with sqlite3.connect(db) as conn:
        ids = [int(r[0]) for r in conn.execute("SELECT id FROM runs ORDER BY id")]
        stored = [r[0] for r in conn.execute("SELECT summary_json FROM runs")]
    conn.close()
    for step in range(56):  # another program's edits, each followed at once
        rid = rng.choice(ids)
        kind = step % 7
        if kind == 0:
            _edit(db, "UPDATE runs SET summary_json = ? WHERE id = ?", rng.choice(stored), rid)
        elif kind == 1:
            _edit(db, "UPDATE runs SET summary_json = json_set(summary_json, '$.energy_j',"
                  " ?) WHERE id = ? AND json_valid(summary_json)",
                  rng.choice([1e308, -1.0, 5.0, "12", None]), rid)
        elif kind == 2:
            _edit(db, "UPDATE runs SET ended_unix_s = ?, heartbeat_unix_s = ? WHERE id = ?",
                  rng.choice([None, START, START + 1e12, "x"]), START + 3, rid)
        elif kind == 3:
            _edit(db, "DELETE FROM runs WHERE id = ?", rid)
            ids.remove(rid)
        elif kind == 4:
            new = max(ids) + 100
            _edit(db, "UPDATE runs SET id = ? WHERE id = ?", new, rid)
            ids[ids.index(rid)] = new
        elif kind == 5:  # a row REPLACE removes fires no delete trigger
            _edit(db, "INSERT OR REPLACE INTO runs SELECT * FROM runs WHERE id = ?", rid)
            _edit(db, "UPDATE runs SET summary_json = ? WHERE id = ?",
                  json.dumps({"energy_j": 5.0, "low_j": 4.0, "high_j": 6.0}), rid)
            _edit(db, "INSERT OR REPLACE INTO runs SELECT * FROM runs WHERE id = ?", rid)
        else:  # re-keyed onto another run, which REPLACE removes
            other = rng.choice([i for i in ids if i != rid])
            _edit(db, "UPDATE OR REPLACE runs SET id = ? WHERE id = ?", other, rid)
            ids.remove(rid)
        assert _kept(db) == _passed(db), (step, kind, rid)


def test_a_page_far_down_reads_the_kept_runs_not_every_summary(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db = _db(tmp_path / "runs.db")
    reads = Reads(db)
    try:
        kept_ids = functools.partial(unsure_kept.unsure_ids, reads.rows)
        runs = _usable_sql.UnusableRuns(reads.rows, kept_ids=kept_ids)
        kept = {s: runs.ids(s) for s in ("energy", "emissions")}

        def every_summary(*_: object) -> list[int]:
            raise AssertionError("the pass read every summary")

        monkeypatch.setattr(runs, "_unsure", every_summary)
        assert {s: runs.ids(s) for s in ("energy", "emissions")} == kept
        monkeypatch.setattr(unsure_kept, "current", lambda rows: False)
        with pytest.raises(AssertionError, match="the pass read every summary"):
            runs.ids("energy")
        monkeypatch.undo()
        fresh = _usable_sql.UnusableRuns(reads.rows, kept_ids=kept_ids)
        monkeypatch.setattr(unsure_kept, "current", lambda rows: False)
        assert {s: fresh.ids(s) for s in ("energy", "emissions")} == kept
    finally:
        reads.close()


@pytest.mark.parametrize("change", [
    "DROP TRIGGER runs_unsure_update", "DROP TABLE runs_unsure", "DROP VIEW runs_unsure_now",
    "older"])
def test_kept_runs_not_this_wattwise_s_are_not_read_and_a_writer_makes_them_again(
        tmp_path: Path, change: str) -> None:
    db = _db(tmp_path / "runs.db")
    with sqlite3.connect(db) as conn:
        if change == "older":  # another release's rule: its view says otherwise
            view = conn.execute("SELECT sql FROM sqlite_master WHERE name = ?",
                                (unsure_kept.VIEW,)).fetchone()[0]
            conn.execute(f"DROP VIEW {unsure_kept.VIEW}")
            conn.execute(view.replace("1e-09", "2e-09", 1))
        else:
            conn.execute(change)
        if change.startswith("DROP TRIGGER") or change == "older":
            # edited meanwhile: the table no longer says which
            conn.execute("UPDATE runs SET summary_json = json_set(summary_json,"
                         " '$.energy_j', 1e308) WHERE json_valid(summary_json)")
        else:  # its triggers write into what was dropped: SQLite refuses writes to runs
            with pytest.raises(sqlite3.OperationalError, match="no such table"):
                conn.execute("UPDATE runs SET summary_json = summary_json WHERE id = 1")
    conn.close()
    reads = Reads(db)
    try:
        assert not unsure_kept.current(reads.rows)
    finally:
        reads.close()
    _write_one(db)  # a writer opens it
    assert _kept(db) == _passed(db)


def test_an_older_wattwise_s_database_gets_its_runs_kept_at_a_writer_s_open(
        tmp_path: Path) -> None:
    db = _db(tmp_path / "runs.db")
    with sqlite3.connect(db) as conn:
        _drop_ours(conn)
    conn.close()
    before = _passed(db)
    _write_one(db)
    with sqlite3.connect(db) as conn:  # no part of the schema's version
        assert conn.execute("PRAGMA user_version").fetchone()[0] == schema.SCHEMA_VERSION == 3
    conn.close()
    assert _kept(db) == _passed(db) == before


def test_another_program_reading_and_writing_through_sqlite_needs_nothing_of_wattwise(
        tmp_path: Path) -> None:
    """The triggers use SQLite's own functions only: a plain connection writes runs."""
    db = _db(tmp_path / "runs.db")
    conn = sqlite3.connect(db)
    try:
        conn.execute("UPDATE runs SET summary_json = ? WHERE id = 1",
                     (json.dumps({"energy_j": -4.0}),))
        conn.execute("DELETE FROM runs WHERE id = 2")
        conn.commit()
    finally:
        conn.close()
    assert _kept(db) == _passed(db)


THEIRS = [
    "CREATE TABLE runs_unsure (x TEXT)", "CREATE VIEW runs_unsure AS SELECT 1",
    "CREATE TRIGGER runs_unsure_insert AFTER INSERT ON events BEGIN SELECT 1; END",
    # SQLite's names are not case-sensitive; a statement that starts as ours does
    "CREATE TABLE RUNS_UNSURE (x TEXT)", "CREATE VIEW Runs_Unsure_Now AS SELECT 1",
    "CREATE TRIGGER RUNS_UNSURE_INSERT AFTER INSERT ON events BEGIN SELECT 1; END",
    "CREATE VIEW runs_unsure_now AS SELECT id, 0 AS x FROM runs"]


@pytest.mark.parametrize("ours_left", [False, True])
@pytest.mark.parametrize("theirs", THEIRS)
def test_another_program_s_object_of_one_of_these_names_is_never_dropped(
        tmp_path: Path, theirs: str, ours_left: bool) -> None:
    """A writer dropped it (a table with its rows; by another case of its name, or SQL
    that began as ours), or refused the file and lost the run ("use DROP VIEW to delete
    view runs_unsure"); with our triggers left beside it (``ours_left``), they wrote into
    it and every new run failed ("no such column: run_id"). It records on, leaves it
    (dropping triggers of ours only), and the dashboard reads every summary."""
    db = _db(tmp_path / "runs.db")
    with sqlite3.connect(db) as conn:
        _drop_ours(conn, triggers=not ours_left)
        if ours_left and "TRIGGER" in theirs.upper():
            conn.execute(f"DROP TRIGGER {unsure_kept.TRIGGERS[0]}")
        conn.execute(theirs)
        if theirs.upper().startswith("CREATE TABLE"):
            conn.execute("INSERT INTO runs_unsure (x) VALUES ('kept')")
    conn.close()
    rid = _write_one(db)
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT name FROM runs WHERE id = ?", (rid,)).fetchone() == ("next",)
        held = conn.execute("SELECT sql FROM sqlite_master WHERE sql = ?", (theirs,)).fetchall()
        assert held == [(theirs,)]
        if theirs.upper().startswith("CREATE TABLE"):
            assert conn.execute("SELECT x FROM runs_unsure").fetchall() == [("kept",)]
    conn.close()
    reads = Reads(db)
    try:
        assert unsure_kept.unsure_ids(reads.rows, "energy") is None
    finally:
        reads.close()


def _unmarked_install(db: Path) -> None:
    """The objects as the builds before the mark made them (an update trigger of every
    column, as before ``RULE_COLUMNS``)."""
    with sqlite3.connect(db) as conn:
        _drop_ours(conn)
        for statement in unsure_kept._statements(""):
            conn.execute(statement.replace(f" {unsure_kept.MARK}", ""))
        conn.execute(f"INSERT INTO {unsure_kept.TABLE} SELECT id, sorts FROM"
                     f" {unsure_kept.VIEW} WHERE sorts != 0")
    conn.close()


@pytest.mark.parametrize("dropped", ["", "DROP TABLE runs_unsure", "DROP VIEW runs_unsure_now"])
def test_objects_of_a_build_before_the_mark_are_brought_up_to_date(
        tmp_path: Path, dropped: str) -> None:
    """Made before the mark, they read as another program's: never made again (the first
    deep page read every summary for good), and with the table or view dropped by hand
    the triggers were never dropped: every new run failed."""
    db = _db(tmp_path / "runs.db")
    _unmarked_install(db)
    if dropped:
        _edit(db, dropped)
    rid = _write_one(db)
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT name FROM runs WHERE id = ?", (rid,)).fetchone() == ("next",)
    conn.close()
    assert _kept(db) == _passed(db)


@pytest.mark.parametrize("theirs", [
    f"CREATE TABLE runs_unsure {unsure_kept.MARK} (x TEXT)",
    f"CREATE TRIGGER runs_unsure_insert {unsure_kept.MARK} AFTER INSERT ON events BEGIN"
    " SELECT 1; END"])
def test_another_program_s_object_with_the_mark_copied_in_is_still_its_own(
        tmp_path: Path, theirs: str) -> None:
    db = _db(tmp_path / "runs.db")
    with sqlite3.connect(db) as conn:
        _drop_ours(conn)
        conn.execute(theirs)
    conn.close()
    _write_one(db)
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT sql FROM sqlite_master WHERE sql = ?",
                            (theirs,)).fetchall() == [(theirs,)]
    conn.close()


def test_the_rule_reads_no_column_of_runs_but_those_its_update_trigger_watches(
        tmp_path: Path) -> None:
    """The update trigger fires only where an update sets one of ``RULE_COLUMNS``: a
    column the rule read beside them would leave the table stale after its update."""
    import re

    db = _db(tmp_path / "runs.db")
    with sqlite3.connect(db) as conn:
        columns = {r[1] for r in conn.execute("PRAGMA table_info(runs)")}
    conn.close()
    view = unsure_kept.statements()[1]
    read = {c for c in columns if re.search(rf"(?<![$.\w']){c}\b", view)}
    assert read == set(unsure_kept.RULE_COLUMNS), read
    when = " OR ".join(f"OLD.{c} IS NOT NEW.{c}" for c in unsure_kept.RULE_COLUMNS)
    assert f"AFTER UPDATE ON runs WHEN {when} BEGIN " in unsure_kept.statements()[3]


def test_an_update_of_other_columns_keeps_the_table_and_sets_them(tmp_path: Path) -> None:
    db = _db(tmp_path / "runs.db")
    before = _kept(db)
    _edit(db, "UPDATE runs SET name = name || '-x', tags_json = '{\"a\": \"b\"}',"
              " status = 'paused', hostname = 'elsewhere'")
    assert _kept(db) == _passed(db) == before
    # and one of the rule's columns still moves a run in or out
    _edit(db, "UPDATE runs SET summary_json = json_set(summary_json, '$.energy_j', 1e308)"
              " WHERE id = 1")
    assert 1 in _kept(db)["energy"] and _kept(db) == _passed(db)


@pytest.mark.parametrize("alias", ["id", "rowid", "oid", "_rowid_"])
def test_a_re_key_however_spelt_moves_the_kept_run(tmp_path: Path, alias: str) -> None:
    """``UPDATE OF id`` fires on ``SET id = ...`` alone: a re-key written with one of the
    rowid's other names left the table holding the old id."""
    db = _db(tmp_path / "runs.db")
    (rid,) = [r for r in _passed(db)["energy"] if r > 0][:1]
    _edit(db, f"UPDATE runs SET {alias} = -777 WHERE id = ?", rid)
    assert _kept(db) == _passed(db)
    assert -777 in _kept(db)["energy"] and rid not in _kept(db)["energy"]


def test_the_triggers_of_a_release_before_rule_columns_are_brought_up_to_date(
        tmp_path: Path) -> None:
    """Its update trigger fires on every update: ours, made again at a writer's open."""
    db = _db(tmp_path / "runs.db")
    old = unsure_kept._statements("")[3]
    assert " OF " not in old.split(" BEGIN ")[0]
    _edit(db, f"DROP TRIGGER {unsure_kept.TRIGGERS[1]}")
    _edit(db, old)
    reads = Reads(db)
    try:
        assert not unsure_kept.current(reads.rows)
    finally:
        reads.close()
    _write_one(db)
    with sqlite3.connect(db) as conn:
        (held,) = conn.execute("SELECT sql FROM sqlite_master WHERE name = ?",
                               (unsure_kept.TRIGGERS[1],)).fetchone()
    conn.close()
    assert held == unsure_kept.statements()[3]
    assert _kept(db) == _passed(db)
