"""A runs-list page reads what its rows' notes are kept by (``row_notes.notes_marks``) in
one query for the page, not one per row (50 queries on each refresh, each reading a
summary that runs stored before 0a034b9 hold at 111 kB), and keeps them by the same mark
a run's own page reads alone (``notes_mark``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.server._runs import START, demo_like
from wattwise.records.store import Store
from wattwise.server._sql import Reads, RunsQuery
from wattwise.server.data import runs_payload


def _db(path: Path, runs: int) -> list[int]:
    with Store(path) as store:
        return [demo_like(store, f"r{i}", START + 100.0 * i, scale=0.5) for i in range(runs)]


def test_a_page_reads_its_rows_marks_at_once(tmp_path: Path) -> None:
    path = tmp_path / "r.db"
    _db(path, 12)
    reads = Reads(path)
    calls: list[str] = []
    rows = reads.rows

    def spy(sql: str, params: Any = ()) -> Any:
        calls.append(sql)
        return rows(sql, params)

    reads.rows = spy  # type: ignore[method-assign]
    try:
        with Store(path, readonly=True) as store:
            counts = []
            for limit in (3, 12):
                calls.clear()
                got = runs_payload(store, query=RunsQuery(limit=limit), reads=reads,
                                   notes_wait_s=None)
                assert len(got["runs"]) == limit
                counts.append(len(calls))
        assert counts[0] == counts[1], (counts, calls)
    finally:
        reads.close()


def test_the_page_s_marks_are_those_a_run_reads_alone(tmp_path: Path) -> None:
    from wattwise.server.row_notes import notes_mark, notes_marks

    path = tmp_path / "r.db"
    ids = _db(path, 3)
    reads = Reads(path)
    try:
        marks = notes_marks(reads, [*ids, 999])
        assert set(marks) == set(ids)
        for rid in ids:
            assert marks[rid] == notes_mark(reads, rid)
        assert notes_mark(reads, 999) is None
        assert notes_marks(reads, []) == {}
    finally:
        reads.close()
