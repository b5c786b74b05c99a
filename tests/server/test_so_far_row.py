"""A runs-list row, and the timeline, of a run without a summary (``server.so_far_row``).

The notes such a row gives from a pass over its samples were read inside every list
request, outside the list's bounded wait for notes, and kept only for a lost run: with a
run of a million samples on the page (ended without a summary, or still recording),
every `/api/runs` took about a second, and its timeline summed every sample again on
every request. Both are now kept while the run's row and samples stay the same, and
the notes' pass is waited for as a finished run's is (``notes_pending``)."""

from __future__ import annotations

import sqlite3
import threading
import time
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests._damage import tracked_run

pytestmark = pytest.mark.usefixtures("no_ambient_zone")


@pytest.fixture
def ended_unsummed(tmp_path: Path) -> Path:
    """A run that ended (finished, its end stored) without a summary it can read."""
    db = tmp_path / "r.db"
    tracked_run(db)
    with closing(sqlite3.connect(db)) as conn, conn:
        conn.execute("UPDATE runs SET summary_json = NULL")
    return db


def _client(db: Path) -> TestClient:
    from wattwise.server import create_app

    return TestClient(create_app(db), base_url="http://127.0.0.1")


def _counting(monkeypatch: pytest.MonkeyPatch, module: Any, name: str,
              wait: threading.Event | None = None, extra: Any = None) -> list[int]:
    calls: list[int] = []
    real = getattr(module, name)

    def counted(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        if wait is not None:
            assert wait.wait(60)
        got = real(*args, **kwargs)
        return got if extra is None else [*got, extra]

    monkeypatch.setattr(module, name, counted)
    return calls


def test_an_ended_run_s_row_is_read_once_while_it_stays_the_same(
    ended_unsummed: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from wattwise.records import run_notes

    calls = _counting(monkeypatch, run_notes, "run_notes")
    with _client(ended_unsummed) as client:
        rows = [client.get("/api/runs?all_notes=true").json()["runs"][0] for _ in range(3)]
    assert calls == [1], "the pass over its samples was made on every request"
    assert rows[0] == rows[1] == rows[2]
    assert rows[0]["so_far"] and rows[0]["status"] == "finished"


def test_a_slow_pass_over_its_samples_is_not_waited_for_past_the_list_s_wait(
    ended_unsummed: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from wattwise.records import run_notes

    release = threading.Event()
    note = "a note from the pass over its samples"
    _counting(monkeypatch, run_notes, "run_notes", wait=release, extra=note)
    monkeypatch.setenv("WATTWISE_LIST_NOTES_WAIT_S", "0.05")
    with _client(ended_unsummed) as client:
        first = client.get("/api/runs").json()["runs"][0]
        deadline = time.monotonic() + 60
        # its figures may take longer than the list's wait on a loaded machine (the row
        # then says so, ``figures_pending``): asked again, the notes' pass still held
        while first.get("figures_pending") and time.monotonic() < deadline:
            time.sleep(0.05)
            first = client.get("/api/runs").json()["runs"][0]
        release.set()
        row = first
        while row.get("notes_pending") and time.monotonic() < deadline:
            time.sleep(0.05)
            row = client.get("/api/runs").json()["runs"][0]
    # the row came with its figures while the pass went on, and said its notes were not
    # there yet; the next one, the pass done, has them, each given once
    assert first["notes_pending"] is True and note not in (first.get("notes") or [])
    assert first["energy_j"] == row["energy_j"] is not None
    assert not row.get("notes_pending") and note in row["notes"]
    assert note not in (row.get("emissions_note") or "")
    assert row["emissions_note"] == ("priced at zone DE, as the run was started with (the "
                                     "run has no summary)")


def test_its_timeline_prices_its_samples_once_while_they_stay_the_same(
    ended_unsummed: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from wattwise.server import timeline_emissions

    calls = _counting(monkeypatch, timeline_emissions, "lost_run_pricing")
    with _client(ended_unsummed) as client:
        lines = [client.get("/api/runs/1/timeline").json() for _ in range(3)]
        with closing(sqlite3.connect(ended_unsummed)) as conn, conn:  # another tool
            conn.execute("DELETE FROM samples WHERE rowid = (SELECT max(rowid) FROM samples)")
        after = client.get("/api/runs/1/timeline").json()
    assert calls == [1, 1], "its samples were priced again on a request that changed nothing"
    assert lines[0] == lines[1] == lines[2]
    assert after["emissions"] != lines[0]["emissions"]
