"""Database names SQLite would not take as a file (``_check_path`` in
``records/database.py``): ``:memory:`` keeps nothing and ``file:...`` is read as a
URI, so a run "recorded" there would be lost without a word."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from wattwise.errors import StoreError
from wattwise.records.database import not_a_file_name
from wattwise.records.store import Store


@pytest.mark.parametrize("name", [":memory:", "file:runs.db", "file:runs.db?mode=memory",
                                  "FILE:runs.db"])
def test_a_name_sqlite_would_not_open_as_a_file_is_refused_by_the_store(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(StoreError, match=r"^run database .*: (':memory:'|a name starting)"):
        Store(name)
    assert os.listdir(tmp_path) == []  # nothing was created under any name


@pytest.mark.parametrize("name", ["runs.db", "memory.db", "x/file:runs.db", ":memory:.db"])
def test_ordinary_names_are_file_names(name: str) -> None:
    assert not_a_file_name(name) is None


def test_an_absolute_path_to_a_file_named_file_colon_is_kept(tmp_path: Path) -> None:
    db = tmp_path / "file:runs.db"
    Store(db).close()
    assert db.exists()
