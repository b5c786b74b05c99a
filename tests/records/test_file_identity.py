"""The run database deleted, replaced or moved while a run records (``file_identity``).

SQLite keeps writing to the file it opened but names its ``-wal`` after the path: a run
whose database was deleted was reported stored with no word, and a database moved over
a recording one came out damaged (its runs gone, "row 1 missing from index"), read with
the recording run's ``-wal``. The writer now writes nothing more once the file is no
longer at its name, empties its ``-wal`` into it, and says so; a file only moved (its
folder renamed) keeps the whole record, and that is said too."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path
from typing import Any

import pytest

import wattwise
from tests.fixtures.fake_sensors import ConstantPowerSensor
from wattwise.records.file_identity import FileWatch
from wattwise.records.store import Store


def _sensor() -> ConstantPowerSensor:
    return ConstantPowerSensor({"cpu:package": 40.0})


def test_file_watch_tells_the_cases_apart(tmp_path: Path) -> None:
    a, b = tmp_path / "a.db", tmp_path / "b.db"
    a.write_bytes(b"x")
    b.write_bytes(b"y")
    watch = FileWatch(a)
    assert watch.gone() is None and not watch.moved()
    os.replace(b, a)  # another file at its name
    assert watch.gone() == "replaced by another file"
    watch.close()
    renamed = FileWatch(a)
    os.replace(a, tmp_path / "c.db")
    assert renamed.gone() == "renamed to c.db"
    renamed.close()
    deleted = FileWatch(tmp_path / "c.db")
    (tmp_path / "c.db").unlink()
    assert deleted.gone() == "deleted or moved out of its folder"
    deleted.close()
    (tmp_path / "f").mkdir()
    (tmp_path / "f" / "d.db").write_bytes(b"z")
    moved = FileWatch(tmp_path / "f" / "d.db")
    os.replace(tmp_path / "f", tmp_path / "g")  # its folder renamed: the file kept
    assert moved.gone() is None and moved.moved()
    moved.close()
    assert FileWatch(tmp_path / "none.db").gone() is None  # nothing held: nothing said


def test_a_link_to_the_database_removed_is_no_change(tmp_path: Path) -> None:
    """SQLite names the -wal after the file a link leads to: removing the link leaves it."""
    target = tmp_path / "real.db"
    target.write_bytes(b"x")
    link = tmp_path / "link.db"
    link.symlink_to(target)
    watch = FileWatch(link)
    link.unlink()
    assert watch.gone() is None
    watch.close()


def _records_while(db: Path, change: object) -> list[str]:
    with wattwise.track("first", db=db, sensors=[_sensor()], interval_s=0.05):
        pass
    with pytest.warns(wattwise.WattwiseWarning) as said:
        with wattwise.track("second", db=db, sensors=[_sensor()], interval_s=0.05) as run:
            time.sleep(0.2)
            run.flush()
            change()  # type: ignore[operator]
            time.sleep(0.3)
    return [str(w.message) for w in said]


def test_a_database_moved_over_a_recording_one_is_left_whole(tmp_path: Path) -> None:
    db, other = tmp_path / "runs.db", tmp_path / "other.db"
    with Store(other) as store:
        for n in range(3):
            rid = store.create_run(name=f"o{n}", started_unix_s=1.0, host={}, hardware={},
                                   versions={}, sensors=[])
            store.finish_run(rid, ended_unix_s=2.0, status="finished", summary={})
    said = _records_while(db, lambda: os.replace(other, db))
    assert any(f"run database {db} was replaced by another file while it was written"
               in s for s in said), said
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert [r[0] for r in conn.execute("SELECT name FROM runs ORDER BY id")] == \
            ["o0", "o1", "o2"]
    conn.close()


def test_a_deleted_database_is_said_lost(tmp_path: Path) -> None:
    db = tmp_path / "runs.db"
    said = _records_while(db, db.unlink)
    assert any(f"run database {db} was deleted or moved out of its folder while it was "
               "written: what was written is lost with it (a move to another filesystem "
               "copies a file, then deletes it); nothing more is written to it" in s
               for s in said), said


def test_a_renamed_database_keeps_what_was_written(tmp_path: Path) -> None:
    db = tmp_path / "runs.db"
    said = _records_while(db, lambda: os.replace(db, tmp_path / "kept.db"))
    assert any(f"run database {db} was renamed to kept.db while it was written: it keeps "
               "what was written" in s for s in said), said
    with Store(tmp_path / "kept.db") as store:
        assert [r.name for r in store.list_runs()] == ["second", "first"]


def test_a_moved_folder_keeps_the_whole_record(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    db = tmp_path / "a" / "runs.db"
    said = _records_while(db, lambda: shutil.move(tmp_path / "a", tmp_path / "b"))
    assert any(f"the run database is no longer at {db}" in s for s in said), said
    with Store(tmp_path / "b" / "runs.db") as store:
        assert [r.status for r in store.list_runs()] == ["finished", "finished"]


def test_a_run_whose_database_stays_says_nothing(tmp_path: Path,
                                                 recwarn: pytest.WarningsRecorder) -> None:
    with wattwise.track("one", db=tmp_path / "runs.db", sensors=[_sensor()],
                        interval_s=0.05):
        time.sleep(0.1)
    assert not [w for w in recwarn if "while it was written" in str(w.message)
                or "no longer at" in str(w.message)]


@pytest.mark.parametrize("how", ["deleted", "folder moved"])
def test_the_next_run_records_at_the_path_asked_for(tmp_path: Path, how: str) -> None:
    """A run started in the same process after the file left its path reused the old
    database: refused ("deleted or renamed"), or recorded into the moved file, unsaid."""
    (tmp_path / "a").mkdir()
    db = tmp_path / "a" / "runs.db"

    def change() -> None:
        if how == "deleted":
            for p in db.parent.glob("runs.db*"):
                p.unlink()
        else:
            shutil.move(tmp_path / "a", tmp_path / "b")
            (tmp_path / "a").mkdir()

    _records_while(db, change)
    with wattwise.track("after", db=db, sensors=[_sensor()], interval_s=0.05) as run:
        time.sleep(0.1)
    assert run.flush()
    with Store(db) as store:
        assert [r.name for r in store.list_runs()] == ["after"]


def test_a_database_moved_to_another_folder_keeps_what_was_written(tmp_path: Path) -> None:
    """Moved out of its folder it was said deleted, "the rest of the run's record is lost
    with it", though the moved file kept what was written."""
    db = tmp_path / "runs.db"
    (tmp_path / "sub").mkdir()
    said = _records_while(db, lambda: os.replace(db, tmp_path / "sub" / "kept.db"))
    kept = tmp_path / "sub" / "kept.db"
    assert any("deleted or moved out of its folder" in s and f"it keeps what was written, "
               f"at {kept}; nothing more" in s for s in said), said
    with Store(tmp_path / "sub" / "kept.db") as store:
        assert [r.name for r in store.list_runs()] == ["second", "first"]


def _theirs(path: Path) -> Path:
    """Another database at ``path``, holding one finished run named "theirs"."""
    with Store(path) as store:
        rid = store.create_run(name="theirs", started_unix_s=1.0, host={}, hardware={},
                               versions={}, sensors=[])
        store.finish_run(rid, ended_unix_s=2.0, status="finished", summary={})
    return path


@pytest.mark.parametrize("how", ["replaced", "renamed"])
def test_a_database_moved_between_two_runs_of_one_process(tmp_path: Path, how: str) -> None:
    """Moved between two tracked blocks of one process, while the first one's writer was
    still open: the second opened the path and read the first's -wal frames as the new
    file's own (a database moved over it came out damaged; a renamed one lost its run)."""
    db, other = tmp_path / "runs.db", _theirs(tmp_path / "other.db")
    with wattwise.track("first", db=db, sensors=[_sensor()], interval_s=0.05):
        time.sleep(0.1)
    if how == "replaced":
        os.replace(other, db)
    else:
        os.replace(db, tmp_path / "kept.db")
    with wattwise.track("second", db=db, sensors=[_sensor()], interval_s=0.05) as run:
        time.sleep(0.1)
    run.flush()
    names = {"replaced": (db, ["second", "theirs"]), "renamed": (tmp_path / "kept.db",
                                                                 ["first"])}
    path, want = names[how]
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        got = [r[0] for r in conn.execute("SELECT name FROM runs ORDER BY id DESC")]
    conn.close()
    assert got == want


#: Another process reading the database: a snapshot held (BEGIN; SELECT) until its
#: input ends. Its snapshot keeps the writer's -wal frames from being folded in.
READER = """
import sqlite3, sys
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("BEGIN")
conn.execute("SELECT count(*) FROM runs").fetchone()
print("reading", flush=True)
sys.stdin.read()
conn.execute("COMMIT")
conn.close()
"""


@contextmanager
def _reading(db: Path) -> Iterator[None]:
    """Another process holding a read snapshot of ``db`` for the block's length."""
    reader = subprocess.Popen([sys.executable, "-c", READER, str(db)],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert reader.stdout is not None and reader.stdout.readline() == "reading\n"
        yield
    finally:
        assert reader.stdin is not None and reader.stdout is not None
        reader.stdin.close()
        assert reader.wait(timeout=60) == 0
        reader.stdout.close()


def _names(path: Path) -> list[str]:
    with closing(sqlite3.connect(path)) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        return [r[0] for r in conn.execute("SELECT name FROM runs ORDER BY id")]


@pytest.mark.parametrize("how", ["replaced", "renamed", "moved out", "renamed beside a -wal"])
def test_a_database_moved_between_two_runs_while_another_process_reads_it(
    tmp_path: Path, how: str
) -> None:
    """With a reader's snapshot open, the first run's -wal cannot be folded in: it stayed
    at the path, and the second run (or the next one at the path) read it as the file
    there now: a database moved over it came out damaged ("row 1 missing from index"),
    a renamed one lost the first run. The log now goes with its file, or is removed
    with it, before the path is opened again."""
    db, other = tmp_path / "runs.db", _theirs(tmp_path / "other.db")
    with wattwise.track("zeroth", db=db, sensors=[_sensor()], interval_s=0.05):
        pass
    with _reading(db):
        with wattwise.track("first", db=db, sensors=[_sensor()], interval_s=0.05):
            time.sleep(0.1)
        kept = {"replaced": None, "renamed": tmp_path / "kept.db",
                "moved out": tmp_path / "sub" / "kept.db",
                "renamed beside a -wal": tmp_path / "kept.db"}[how]
        if how == "renamed beside a -wal":  # (empty: no frames) its log cannot go there
            (tmp_path / "kept.db-wal").write_bytes(b"")
        if kept is None:
            os.replace(other, db)
        else:
            kept.parent.mkdir(exist_ok=True)
            os.replace(db, kept)
        with wattwise.track("second", db=db, sensors=[_sensor()], interval_s=0.05) as run:
            time.sleep(0.1)
        assert run.flush()
    assert _names(db) == (["theirs", "second"] if kept is None else ["second"])
    if how == "renamed beside a -wal":  # its log moved aside, out of the path's way
        assert (tmp_path / f"runs.db-wal.left-by-{os.getpid()}").stat().st_size > 0
        assert _names(kept) == ["zeroth"]
    elif kept is not None:
        assert _names(kept) == ["zeroth", "first"]


def test_rows_queued_for_a_locked_database_that_is_renamed_meanwhile_are_counted(
    tmp_path: Path,
) -> None:
    """A run's rows queued while another process held the file, given up when the file
    left its name: "it keeps what was written" said none of the run was, and the rows
    were not counted, as every other loss of queued rows is."""
    from tests.records._held import held

    db, kept = tmp_path / "runs.db", tmp_path / "kept.db"
    with wattwise.track("first", db=db, sensors=[_sensor()], interval_s=0.05):
        pass
    with pytest.warns(wattwise.WattwiseWarning) as said:
        with held(db):
            with wattwise.track("second", db=db, sensors=[_sensor()],
                                interval_s=0.05) as run:
                time.sleep(0.3)
            os.replace(db, kept)
        run.flush(30)  # given up: never written
    lines = [str(w.message) for w in said]
    assert any("was renamed to kept.db while it was written" in s
               and "queued rows of run records were not written" in s for s in lines), lines
    assert _names(kept) == ["first"]


def test_an_empty_log_of_a_file_that_left_is_not_moved_aside(tmp_path: Path) -> None:
    """A reader's snapshot taken once the first run's -wal was folded keeps it from being
    reset, with no frame in it: it was moved aside all the same (an empty
    runs.db-wal.left-by-PID), and the warning's words did not hold."""
    db, kept = tmp_path / "runs.db", tmp_path / "kept.db"
    with wattwise.track("first", db=db, sensors=[_sensor()], interval_s=0.05):
        pass
    time.sleep(0.3)  # its writer folds its -wal as the run ends
    with _reading(db):
        os.replace(db, kept)
        with wattwise.track("second", db=db, sensors=[_sensor()], interval_s=0.05) as run:
            pass
        assert run.flush()
    assert not list(tmp_path.glob("*.left-by-*"))
    assert _names(kept) == ["first"] and _names(db) == ["second"]


@pytest.mark.parametrize("row,folded", [
    ((0, 0, 0), True),  # emptied
    ((1, 0, 0), True),  # a reader keeps it from being reset, with no frame in it
    ((0, -1, -1), True),  # no -wal
    ((1, -1, -1), False),  # another connection held the checkpoint: nothing is known
    ((1, 12, 5), False),  # frames a reader holds
])
def test_a_fold_is_said_done_only_where_no_frame_is_left(
    row: tuple[int, int, int], folded: bool
) -> None:
    from wattwise.records.file_identity import fold_wal

    class Conn:
        def execute(self, sql: str) -> Any:
            class Rows:
                def fetchone(self) -> tuple[int, int, int]:
                    return row
            return Rows()

    assert fold_wal(Conn()) is folded  # type: ignore[arg-type]
