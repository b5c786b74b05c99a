"""A read-only store closed after its reads were stopped (the dashboard lets go of a file
replaced or rewritten under it) says why to a read that comes late, "try again" included:
a request that met it was answered "run database ... is closed", which says nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli._hostile import add_run
from wattwise.errors import StoreError
from wattwise.records.store import Store


def test_a_late_read_of_a_stopped_and_closed_store_says_why(tmp_path: Path) -> None:
    path = tmp_path / "runs.db"
    add_run(path, "r0")
    store = Store(path, readonly=True)
    assert [r.name for r in store.list_runs()] == ["r0"]
    store.stop_reads("the file was replaced (try again)")
    store.close()
    with pytest.raises(StoreError, match=r"not read: the file was replaced \(try again\)"):
        store.list_runs()
    plain = Store(path, readonly=True)
    plain.close()  # closed with no reason: said so
    with pytest.raises(StoreError, match="is closed"):
        plain.list_runs()
