"""A read through a kept reader's cache (the dashboard's connections) of a file rewritten
in place under it (a backup copied over the served file) meets the new file's pages as
"malformed" ones: the dashboard called the sound file damaged, and told the user to
recover it, for that instant. Such damage is judged on a connection of its own first: a
file sound there was changed while it was read (try again), once per state of the file;
a damaged one is damaged."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from tests.cli._hostile import add_run
from tests.fixtures.damaged_pages import overwrite_pages
from wattwise.records.damaged_file import ChangedWhileRead, damage_found, read_error
from wattwise.records.database import ReadOnlyDatabase

MALFORMED = sqlite3.DatabaseError("database disk image is malformed")


def _key(path: Path) -> tuple[int, int]:
    st = path.stat()
    return st.st_dev, st.st_ino


def test_malformed_pages_of_a_sound_file_are_said_once_not_judged(tmp_path: Path) -> None:
    db = tmp_path / "runs.db"
    add_run(db, "r0")
    said = read_error(db, MALFORMED, cached=True)
    assert isinstance(said, ChangedWhileRead)
    assert str(said) == (f"run database {db}: not read: it was rewritten in place while it "
                         "was read (try again)")
    assert damage_found(db, _key(db)) is False  # nothing marked
    # met again in the same state: damage the check does not see, judged so
    again = read_error(db, MALFORMED, cached=True)
    assert not isinstance(again, ChangedWhileRead) and "is damaged" in str(again)
    # a read not through a kept cache is judged at once, as before
    other = tmp_path / "other.db"
    add_run(other, "o0")
    assert "is damaged" in str(read_error(other, MALFORMED))


def test_a_damaged_file_is_damaged_through_a_kept_cache_too(tmp_path: Path) -> None:
    db = tmp_path / "runs.db"
    for k in range(30):
        add_run(db, f"r{k}")
    overwrite_pages(db)
    said = read_error(db, MALFORMED, cached=True)
    assert not isinstance(said, ChangedWhileRead) and "is damaged" in str(said)


def test_a_reader_that_met_the_file_changed_reads_on_new_connections(tmp_path: Path) -> None:
    db = tmp_path / "runs.db"
    add_run(db, "r0")
    ro = ReadOnlyDatabase(db, 5.0)
    try:
        before = ro.reader(5.0)
        assert ro.reader(5.0) is before  # kept across reads
        said = ro.read_failed(MALFORMED)
        assert isinstance(said, ChangedWhileRead)
        after = ro.reader(5.0)
        assert after is not before  # its cache may hold the file as it was
        assert after.execute("select name from runs").fetchall()[0][0] == "r0"
    finally:
        ro.close()
