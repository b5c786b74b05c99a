"""A runs-list request waits a bounded time for the notes its rows' samples give: a row
whose pass over its samples is not done by then comes with its record's own notes and
``notes_pending``, the pass goes on once, and a later request gives its notes. Outputs
that are not a live page (``runs_payload`` without a wait, ``/api/runs?all_notes=true``)
give every note."""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests._cli_out import recorded
from wattwise.errors import BadInput
from wattwise.records import run_notes as run_notes_module
from wattwise.records.store import Store
from wattwise.server import create_app
from wattwise.server._sql import Reads
from wattwise.server.data import runs_payload
from wattwise.server.notes_later import LaterNotes, list_wait_s

pytestmark = pytest.mark.usefixtures("no_ambient_zone")

SAME = "share one time stamp with others of their domain"


def _cache() -> LaterNotes:
    kept: dict[Any, tuple[Any, Any]] = {}

    def keep(key: Any, mark: Any, make: Any) -> Any:
        got = kept.get(key)
        if got is not None and got[0] == mark:
            return got[1]
        kept[key] = (mark, make())
        return kept[key][1]

    def peek(key: Any, mark: Any) -> tuple[bool, Any]:
        got = kept.get(key)
        return (True, got[1]) if got is not None and got[0] == mark else (False, None)

    return LaterNotes(keep, peek)


def test_a_pass_not_done_in_time_goes_on_once_and_is_kept() -> None:
    later, go, calls = _cache(), threading.Event(), []

    def make() -> str:
        calls.append(1)
        go.wait(10)
        return "notes"

    assert later.within("k", 1, make, time.monotonic() + 0.05) == (False, None)
    assert later.within("k", 1, make, time.monotonic() + 0.05) == (False, None)
    go.set()
    assert later.within("k", 1, make, None) == (True, "notes")  # waits for the pass asked
    assert later.within("k", 1, make, time.monotonic()) == (True, "notes")  # kept
    assert calls == [1]  # one pass for the four asks
    assert later.within("k", 2, lambda: "new", None) == (True, "new")  # another mark


def test_a_pass_asked_already_is_not_waited_for_past_its_first_asker_s_wait() -> None:
    later, go = _cache(), threading.Event()

    def make() -> str:
        go.wait(10)
        return "notes"

    assert later.within("k", 1, make, time.monotonic() + 0.05) == (False, None)
    threading.Timer(3.0, go.set).start()
    # a later request with a longer wait finds it pending at once, not 3 s later
    assert later.within("k", 1, make, time.monotonic() + 8) == (False, None)
    assert not go.is_set()
    assert later.within("k", 1, make, None) == (True, "notes")


def test_an_error_in_the_pass_reaches_the_request_that_waits() -> None:
    later = _cache()

    def make() -> str:
        raise ValueError("boom")

    with pytest.raises(ValueError, match="boom"):
        later.within("k", 1, make, time.monotonic() + 10)
    assert later.within("k", 1, lambda: "ok", time.monotonic() + 10) == (True, "ok")


def _same_time_run(tmp: Path) -> tuple[Path, int]:
    db = tmp / "r.db"
    rid = recorded(db)
    conn = sqlite3.connect(db)
    with conn:
        rows = conn.execute("SELECT rowid, t_unix_s FROM samples WHERE run_id = ?"
                            " ORDER BY t_unix_s", (rid,)).fetchall()
        conn.execute("UPDATE samples SET t_unix_s = ? WHERE rowid = ?", (rows[0][1], rows[1][0]))
    conn.close()
    return db, rid


def _slowed(monkeypatch: pytest.MonkeyPatch) -> threading.Event:
    go = threading.Event()
    real = run_notes_module.run_notes

    def slow(store: Any, record: Any, **kw: Any) -> list[str]:
        go.wait(20)
        return real(store, record, **kw)

    monkeypatch.setattr(run_notes_module, "run_notes", slow)
    return go


def test_a_row_whose_samples_are_still_read_is_pending_then_noted(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db, rid = _same_time_run(tmp_path)
    with Store(db, readonly=True) as store:
        whole = runs_payload(store)["runs"][0]  # no wait given: every note
        assert [n for n in whole["notes"] if SAME in n] and "notes_pending" not in whole
    go = _slowed(monkeypatch)
    reads = Reads(db)
    try:
        with Store(db, readonly=True) as store:
            row = runs_payload(store, reads=reads, notes_wait_s=0.05)["runs"][0]
            assert row["id"] == rid and row["notes_pending"] is True
            assert "notes" not in row
            go.set()
            for _ in range(200):  # the pass goes on without a request
                row = runs_payload(store, reads=reads, notes_wait_s=0.05)["runs"][0]
                if "notes_pending" not in row:
                    break
                time.sleep(0.05)
            assert "notes_pending" not in row
            assert row["notes"] == whole["notes"]
    finally:
        reads.close()


def test_the_api_gives_pending_rows_or_every_note_when_asked(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db, _rid = _same_time_run(tmp_path)
    go = _slowed(monkeypatch)
    with TestClient(create_app(db, port=8787, notes_wait_s=0.05),
                    base_url="http://127.0.0.1:8787") as c:
        row = c.get("/api/runs").json()["runs"][0]
        assert row["notes_pending"] is True
        threading.Timer(0.3, go.set).start()
        whole = c.get("/api/runs?all_notes=true").json()["runs"][0]
        assert "notes_pending" not in whole and [n for n in whole["notes"] if SAME in n]


@pytest.mark.parametrize("given", ["0", "-1", "nan", "inf", "601", "soon", "1_0", "\uff11",
                                   "1e-400", ".", "+", "+-5", "5..", "e5"])
def test_a_wait_that_is_not_usable_is_refused_in_one_line(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, given: str) -> None:
    monkeypatch.setenv("WATTWISE_LIST_NOTES_WAIT_S", given)
    with pytest.raises(BadInput, match="WATTWISE_LIST_NOTES_WAIT_S must be a number of"):
        create_app(tmp_path / "none.db", port=8787)


@pytest.mark.parametrize("given", ["600", " 2 ", "0.5", "1e-3", ".25", "+5", "5.", "5.e1"])
def test_a_wait_of_seconds_is_taken(given: str) -> None:
    assert list_wait_s({"WATTWISE_LIST_NOTES_WAIT_S": given}) == float(given)


def test_the_environment_sets_the_wait(tmp_path: Path,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    db, _rid = _same_time_run(tmp_path)
    go = _slowed(monkeypatch)
    monkeypatch.setenv("WATTWISE_LIST_NOTES_WAIT_S", "0.05")
    with TestClient(create_app(db, port=8787), base_url="http://127.0.0.1:8787") as c:
        assert c.get("/api/runs").json()["runs"][0]["notes_pending"] is True
    go.set()


def test_a_pass_for_an_older_state_of_the_run_is_dropped_before_it_runs() -> None:
    from wattwise.server.notes_later import THREADS

    later, go, made = _cache(), threading.Event(), []

    def busy() -> str:
        go.wait(10)
        return "busy"

    for k in range(THREADS):  # every thread held
        later.ask(("busy", k), 1, busy, time.monotonic())
    old = later.ask("k", 1, lambda: made.append(1) or "old", time.monotonic() + 10)
    new = later.ask("k", 2, lambda: made.append(2) or "new", time.monotonic() + 10)
    go.set()
    assert new.wait(time.monotonic() + 10) == (True, "new")
    assert old.wait(time.monotonic() + 10) == (False, None)  # pending, never an error
    assert made == [2]


def test_every_note_asked_while_a_pass_runs_waits_for_it_not_reads_twice(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db, _rid = _same_time_run(tmp_path)
    go, calls, real = threading.Event(), [], run_notes_module.run_notes

    def slow(store: Any, record: Any, **kw: Any) -> list[str]:
        calls.append(1)
        go.wait(20)
        return real(store, record, **kw)

    monkeypatch.setattr(run_notes_module, "run_notes", slow)
    with TestClient(create_app(db, port=8787, notes_wait_s=0.05),
                    base_url="http://127.0.0.1:8787") as c:
        assert c.get("/api/runs").json()["runs"][0]["notes_pending"] is True
        threading.Timer(0.3, go.set).start()
        whole = c.get("/api/runs?all_notes=true").json()["runs"][0]
    assert [n for n in whole["notes"] if SAME in n] and calls == [1]
