"""``damaged_file.damage_left``: the check at a run's end finds a file damaged whatever
wrote it last, and says nothing where it cannot tell (out of time, too large, a FIFO at
its log), so a run never waits on it or is told of damage it did not find."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from tests.fixtures.damaged_pages import overwrite_pages
from tests.server._runs import fixture_db
from wattwise.records import damaged_file

SAID = "run 9 was recorded into it and may not read back"


@pytest.fixture(scope="module")
def sound(tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = tmp_path_factory.mktemp("left") / "sound.db"
    fixture_db(db)
    return db


def _damaged(sound: Path, tmp_path: Path, *, keep_mtime: bool = True) -> Path:
    db = tmp_path / "runs.db"
    shutil.copyfile(sound, db)
    overwrite_pages(db, keep_mtime=keep_mtime)
    return db


def test_a_sound_file_is_none(sound: Path, tmp_path: Path) -> None:
    db = tmp_path / "runs.db"
    shutil.copyfile(sound, db)
    assert damaged_file.damage_left(db, SAID) is None


@pytest.mark.parametrize("just_written", [True, False])
def test_damage_is_said_even_in_a_filewritten_just_now(sound: Path, tmp_path: Path,
                                                        just_written: bool) -> None:
    # the run's own last checkpoint wrote the file less than SETTLE_S before the check:
    # that is no "try again" here
    db = _damaged(sound, tmp_path, keep_mtime=just_written)
    if just_written:
        os.utime(db)
    found = damaged_file.damage_left(db, SAID)
    assert found is not None
    assert str(found) == str(damaged_file.damaged_error(db, SAID))
    assert f"is damaged (SQLite: {damaged_file.MALFORMED}); {SAID}. Save" in str(found)


def test_out_of_time_is_none(sound: Path, tmp_path: Path,
                             monkeypatch: pytest.MonkeyPatch) -> None:
    db = _damaged(sound, tmp_path)
    monkeypatch.setattr(damaged_file, "_CLOCK_EVERY", 1)
    assert damaged_file.damage_left(db, SAID, budget_s=-1.0) is None


def test_a_file_above_the_check_bound_is_not_read(sound: Path, tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    db = _damaged(sound, tmp_path)
    monkeypatch.setattr(damaged_file, "CHECK_MAX_BYTES", 1024)
    assert damaged_file.damage_left(db, SAID) is None


def test_a_fifo_at_its_log_is_not_waited_on(sound: Path, tmp_path: Path) -> None:
    db = _damaged(sound, tmp_path)
    os.mkfifo(str(db) + "-wal")
    assert damaged_file.damage_left(db, SAID) is None
    assert (tmp_path / "runs.db-wal").is_fifo()
