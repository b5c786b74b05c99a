"""A summary's measured window that is not usable (an end stored 1e300, a start 1000 s
before a 12 s run) is a damaged record: ``report``, ``export`` and the market-based
pricing read the run as having none (every sample from its start), never clip to it;
``export`` once printed "clipped to the run's window 1796275948.894 to 1000...(300
digits)"."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.server._runs import START, demo_like
from wattwise.cli import _register_all, app
from wattwise.records.store import Store

_register_all()

pytestmark = pytest.mark.usefixtures("no_ambient_zone")


@pytest.mark.parametrize(("start", "end", "usable"), [
    (1000.0, 1012.0, True),
    (1000.5, 1011.5, True),          # inside the run's start to end
    (1000.0, 1012.5, True),          # within the slack
    (1000.0, 1e300, False),          # implausibly long
    (0.0, 1012.0, False),            # 1000 s before a 12 s run
    (1000.0, 999.0, False),          # ends before it starts
    ("x", 1012.0, False), (1000.0, float("inf"), False), (None, 1012.0, False),
])
def test_a_measured_window_is_usable_only_inside_the_run(start: object, end: object,
                                                         usable: bool) -> None:
    from wattwise.records.judged_stored import measured_window

    got = measured_window({"start_unix_s": start, "end_unix_s": end}, 1000.0, 1012.0)
    assert (got is not None) == usable, got
    if usable:
        assert got == (start, end)


def test_a_window_without_the_runs_end_is_judged_by_its_own_length() -> None:
    from wattwise.records.judged_stored import measured_window

    assert measured_window({"start_unix_s": 0.0, "end_unix_s": 5e8}, None, None) == (0.0, 5e8)
    assert measured_window({"start_unix_s": 0.0, "end_unix_s": 2e9}, None, None) is None
    assert measured_window("not a summary", 0.0, 1.0) is None


def test_export_never_clips_to_a_damaged_window(tmp_path: Path) -> None:
    db = tmp_path / "runs.db"
    with Store(db) as store:
        rid = demo_like(store, "w", START)
    with sqlite3.connect(db) as c:
        c.execute("UPDATE runs SET summary_json = json_set(summary_json, '$.start_unix_s',"
                  " started_unix_s + 1, '$.end_unix_s', 1e300) WHERE id = ?", (rid,))
    for fmt in ("json", "csv"):
        r = CliRunner().invoke(app, ["export", str(rid), "--db", str(db), "-f", fmt])
        assert r.exit_code == 0, (r.stdout, r.stderr)
        assert "clipped to the run's window" not in r.stdout + r.stderr
        assert "0000000000000" not in r.stderr, r.stderr
