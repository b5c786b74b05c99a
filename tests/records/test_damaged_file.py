"""A run database with damaged pages gets one answer from every view: the same one line
(the file, what SQLite said, how to save what still reads), exit code 2, whichever pages
a command happens to read; the file is left as it was."""

from __future__ import annotations

import hashlib
import os
import shutil
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.fixtures.damaged_pages import overwrite_pages
from tests.server._runs import fixture_db
from wattwise.cli import _register_all, app
from wattwise.errors import StoreError
from wattwise.records.store import Store

_register_all()
runner = CliRunner()

pytestmark = pytest.mark.usefixtures("no_ambient_zone")


@pytest.fixture(scope="module")
def sound(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, int]:
    db = tmp_path_factory.mktemp("damaged") / "sound.db"
    return db, fixture_db(db)["demo"]


def _copy(sound: tuple[Path, int], tmp_path: Path) -> Path:
    """A copy of the sound file, written 10 s ago (one written less than
    ``damaged_file.SETTLE_S`` ago is taken as still being written)."""
    db = tmp_path / "runs.db"
    shutil.copyfile(sound[0], db)
    back = time.time_ns() - 10 * 10**9
    os.utime(db, ns=(back, back))
    return db


def _digest(db: Path) -> str:
    return hashlib.sha256(db.read_bytes()).hexdigest()


def test_every_view_gives_the_same_line_for_a_damaged_file(
        sound: tuple[Path, int], tmp_path: Path) -> None:
    db = _copy(sound, tmp_path)
    rid = str(sound[1])
    overwrite_pages(db)
    before = _digest(db)
    commands = [["runs"], ["runs", "--json"], ["show", rid], ["show", rid, "--json"],
                ["report", rid], ["report", rid, "--json"],
                ["export", rid, "-f", "csv", "-o", "-"], ["export", rid, "-f", "json", "-o", "-"],
                ["export", rid, "-f", "codecarbon", "-o", "-"]]
    lines = set()
    for args in commands:
        result = runner.invoke(app, [*args, "--db", str(db)])
        assert result.exit_code == 2, (args, result.output)
        assert "Traceback" not in result.output
        assert len(result.output.strip().splitlines()) == 1, (args, result.output)
        lines.add(result.output.strip())
    assert len(lines) == 1, lines  # one answer for the file, whatever each command reads
    line = lines.pop()
    assert line.startswith(f"wattwise: error: run database {db} is damaged (SQLite: "
                           "database disk image is malformed")
    recover = f"sqlite3 {db} .recover | sqlite3 recovered.db, then check its runs "
    assert line.endswith(recover + "(.recover needs a sqlite3 built with the dbpage table, "
                         "as sqlite.org's is; Debian's fails with 'SQL logic error')")
    assert len(line) <= 500  # whole: not cut to the CLI's longest line
    assert _digest(db) == before  # nothing written to it
    assert sorted(p.name for p in tmp_path.iterdir()) == ["runs.db"]  # no side files left


def test_a_read_that_meets_a_damaged_page_refuses_the_whole_file_after_it(
        sound: tuple[Path, int], tmp_path: Path) -> None:
    """Damage the check did not see (the file damaged after it was checked, its size and
    change time the same): the first read that meets it marks the file, and a list of the
    runs, which reads only whole pages, is refused after it too."""
    db = _copy(sound, tmp_path)
    Store(db, readonly=True).close()  # checked: sound
    overwrite_pages(db, ["events_run"], keep_mtime=True)
    with Store(db, readonly=True) as store:
        assert len(store.list_runs()) == 4  # the check is not run again: same state
        with pytest.raises(StoreError, match=r"is damaged .*malformed") as first:
            store.events(sound[1])
        with pytest.raises(StoreError) as after:
            store.list_runs()
    assert str(after.value) == str(first.value)
    result = runner.invoke(app, ["runs", "--db", str(db)])  # another process checks whole
    assert result.exit_code == 2 and "is damaged" in result.output


def test_the_file_is_read_again_once_a_sound_copy_is_put_in_its_place(
        sound: tuple[Path, int], tmp_path: Path) -> None:
    db = _copy(sound, tmp_path)
    overwrite_pages(db)
    with pytest.raises(StoreError, match="is damaged"):
        Store(db, readonly=True)
    db.write_bytes(sound[0].read_bytes())  # in place: the same inode, a new state
    with Store(db, readonly=True) as store:
        assert len(store.list_runs()) == 4
        assert store.events(sound[1])


def test_a_file_past_the_check_s_size_is_judged_by_its_reads(
        sound: tuple[Path, int], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A file larger than ``CHECK_MAX_BYTES`` is not read whole at each open (each CLI
    command would pay for it); a read that meets its damage still refuses it, then every
    read after it."""
    from wattwise.records import damaged_file

    db = _copy(sound, tmp_path)
    overwrite_pages(db, ["events_run"])
    monkeypatch.setattr(damaged_file, "CHECK_MAX_BYTES", db.stat().st_size - 1)
    with Store(db, readonly=True) as store:
        assert len(store.list_runs()) == 4  # opened: not checked whole
        with pytest.raises(StoreError, match=r"is damaged .*malformed"):
            store.events(sound[1])
        with pytest.raises(StoreError, match="is damaged"):
            store.list_runs()
    monkeypatch.setattr(damaged_file, "CHECK_MAX_BYTES", db.stat().st_size)
    monkeypatch.setattr(damaged_file, "_CHECKED", {})  # as another process finds it
    with pytest.raises(StoreError, match="is damaged"):  # one within it is checked whole
        Store(db, readonly=True)


def test_a_recorder_never_writes_into_a_damaged_file(
        sound: tuple[Path, int], tmp_path: Path) -> None:
    """``wattwise run`` refuses the file before it starts the command, as readers do; a
    program's own ``track()`` warns and measures on, unrecorded; the file is untouched."""
    import sys
    import warnings

    import wattwise

    db = _copy(sound, tmp_path)
    overwrite_pages(db)
    before = _digest(db)
    marker = tmp_path / "ran"
    result = runner.invoke(app, ["run", "--db", str(db), "--", sys.executable, "-c",
                                 f"open({str(marker)!r}, 'w').close()"])
    assert result.exit_code == 2, result.output
    assert "is damaged (SQLite: database disk image is malformed)" in result.output
    assert not marker.exists()  # refused before the command ran
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with wattwise.track("job", db=db, interval_s=0.05) as run:
            pass
    assert run.run_id is None
    assert any("is damaged" in str(w.message) for w in caught), caught
    assert _digest(db) == before


def test_a_file_repaired_in_place_is_read_again_by_a_reader_that_found_it_damaged(
        sound: tuple[Path, int], tmp_path: Path) -> None:
    """A dashboard serves on through one reader: once the file is restored in place (a
    backup copied over it), it is checked again and read, not refused until a restart."""
    db = _copy(sound, tmp_path)
    with Store(db, readonly=True) as store:
        assert len(store.list_runs()) == 4
        overwrite_pages(db, ["events_run"], keep_mtime=True)
        with pytest.raises(StoreError, match="is damaged"):
            store.events(sound[1])
        with pytest.raises(StoreError, match="is damaged"):  # unchanged: still refused
            store.list_runs()
        shutil.copyfile(sound[0], db)  # restored in place: the same file, a new state
        assert len(store.list_runs()) == 4
        assert store.events(sound[1])
