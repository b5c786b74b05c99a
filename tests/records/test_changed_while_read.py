"""A read through a kept reader's cache (the dashboard's connections) of a file rewritten
in place under it (a backup copied over the served file) meets the new file's pages as
"malformed" ones: the dashboard called the sound file damaged, and told the user to
recover it, once for good. Such damage is judged on a connection of its own first: a
file sound there was changed while it was read (try again); a damaged one is damaged."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

import pytest

from tests.cli._hostile import add_run
from tests.fixtures.damaged_pages import overwrite_pages
from wattwise.records import damaged_file
from wattwise.records.damaged_file import ChangedWhileRead, check_whole, damage_found, read_error
from wattwise.records.database import ReadOnlyDatabase

MALFORMED = sqlite3.DatabaseError("database disk image is malformed")


def _key(path: Path) -> tuple[int, int]:
    st = path.stat()
    return st.st_dev, st.st_ino


def test_malformed_pages_of_a_sound_file_are_said_not_judged(tmp_path: Path) -> None:
    db = tmp_path / "runs.db"
    add_run(db, "r0")
    for _ in range(3):  # each request in flight, in every thread: the file is sound
        said = read_error(db, MALFORMED, cached=True)
        assert isinstance(said, ChangedWhileRead)
        assert str(said) == (f"run database {db}: not read: it was rewritten in place while "
                             "it was read (try again)")
    assert damage_found(db, _key(db)) is False  # nothing marked
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


def test_a_check_on_a_connection_that_read_the_file_half_copied_marks_nothing(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The dashboard opened the file while a backup was copied over it: its first
    connection's check met the half-copied pages, the verdict was kept for the file's
    state once the copy ended, and a sound file was "damaged" until it moved again."""
    db = tmp_path / "runs.db"
    add_run(db, "r0")
    conn = sqlite3.connect(db)
    stale = {id(conn)}
    real = damaged_file._quick_check
    monkeypatch.setattr(damaged_file, "_quick_check",
                        lambda c: ("*** page 3: malformed",) if id(c) in stale else real(c))
    try:
        with pytest.raises(ChangedWhileRead):
            check_whole(db, conn)
    finally:
        conn.close()
    assert damage_found(db, _key(db)) is False  # nothing marked
    fresh = sqlite3.connect(db)
    try:
        assert check_whole(db, fresh) == _key(db)
    finally:
        fresh.close()


def test_damage_met_in_a_file_still_being_written_is_said_not_judged(tmp_path: Path) -> None:
    """``cp`` writes a backup over a file in pieces, its size and modification time (to
    the clock's coarse tick) as they will stay while pages are still to come: a check
    then found the sound file damaged, and the verdict stood for that state, for good.
    Damage met in a file written less than ``SETTLE_S`` ago is said; once it has
    settled, judged."""
    import os

    db = tmp_path / "runs.db"
    for k in range(30):
        add_run(db, f"r{k}")
    overwrite_pages(db)
    now = time.time_ns()
    os.utime(db, ns=(now, now))  # written just now, as by a copy still going on
    said = read_error(db, MALFORMED, cached=True)
    assert isinstance(said, ChangedWhileRead), said
    assert damage_found(db, _key(db)) is False  # nothing marked
    back = now - 10 * 10**9
    os.utime(db, ns=(back, back))  # settled: damage
    said = read_error(db, MALFORMED, cached=True)
    assert not isinstance(said, ChangedWhileRead) and "is damaged" in str(said)


def test_a_table_missing_from_a_file_being_copied_is_said_not_final(tmp_path: Path) -> None:
    """A request that read a backup half copied over the served file was told "cannot
    read: no such table: runs", as if the file were another program's."""
    import os

    db = tmp_path / "runs.db"
    add_run(db, "r0")
    missing = sqlite3.OperationalError("no such table: runs")
    assert isinstance(read_error(db, missing, cached=True), ChangedWhileRead)
    back = time.time_ns() - 10 * 10**9
    os.utime(db, ns=(back, back))  # settled: the file's own answer
    said = read_error(db, missing, cached=True)
    assert not isinstance(said, ChangedWhileRead)
    assert str(said) == f"run database {db}: cannot read: no such table: runs"


def test_damage_in_a_file_dated_ahead_of_the_clock_is_judged(tmp_path: Path) -> None:
    """A modification time in the future (a skewed clock's write, ``touch -d``) read as a
    write less than a second ago: "try again" for good, the damage never said."""
    import os

    db = tmp_path / "runs.db"
    for k in range(30):
        add_run(db, f"r{k}")
    overwrite_pages(db)
    ahead = time.time_ns() + 3600 * 10**9
    os.utime(db, ns=(ahead, ahead))
    said = read_error(db, MALFORMED, cached=True)
    assert not isinstance(said, ChangedWhileRead) and "is damaged" in str(said)


def test_a_file_written_while_it_was_checked_is_not_judged(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A restore begun while the other process checked the file: the check met it half
    copied and failed, the copy ended, and the verdict stood for the restored file's
    state, a sound file "damaged" until it changed again."""
    import os

    db = tmp_path / "runs.db"
    add_run(db, "r0")
    back = time.time_ns() - 10 * 10**9
    os.utime(db, ns=(back, back))  # quiet: judged by the other process's check

    def copied_meanwhile(path: Path) -> bool:
        add_run(db, "r1")  # the file written while the check read it
        later = time.time_ns() - 5 * 10**9
        os.utime(db, ns=(later, later))  # and quiet again by the time it ended
        return False

    monkeypatch.setattr(damaged_file, "_sound_afresh", copied_meanwhile)
    said = read_error(db, MALFORMED, cached=True)
    assert isinstance(said, ChangedWhileRead), said
    assert damage_found(db, _key(db)) is False


def test_a_file_of_no_schema_yetwritten_just_now_is_said_not_final(tmp_path: Path) -> None:
    """A backup half copied over a served file (truncated, then written) read as a file
    of schema version 0: "has no wattwise runs yet", as if it were another's."""
    import os

    from wattwise.errors import StoreError

    db = tmp_path / "runs.db"
    sqlite3.connect(db).close()
    db.write_bytes(b"")  # as ``cp`` leaves it before its first pages
    with pytest.raises(ChangedWhileRead):
        ReadOnlyDatabase(db, 5.0)
    back = time.time_ns() - 10 * 10**9
    os.utime(db, ns=(back, back))  # settled: the file's own answer
    with pytest.raises(StoreError, match=r"has no wattwise runs yet \(schema version 0\)"):
        ReadOnlyDatabase(db, 5.0)
